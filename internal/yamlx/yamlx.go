// Package yamlx holds the YAML helpers that let parole's configuration and
// call-flow loaders report errors with the file, line and dotted key of the
// offending value.
package yamlx

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is one problem found in a YAML document.
type Error struct {
	File string // file name, empty when unknown
	Line int    // 1-based line, 0 when unknown
	Key  string // dotted key, e.g. "steps.welcome.goto"
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Lines returns the line of every mapping key under n, by dotted key.
// Sequence items are keyed by their index ("steps.welcome.no_input.1").
func Lines(n *yaml.Node) map[string]int {
	lines := map[string]int{}
	Walk(n, "", func(key string, keyNode, _ *yaml.Node) { lines[key] = keyNode.Line })
	return lines
}

// Walk calls fn for every mapping entry and sequence item under n with its
// dotted key, the node that names it (the key node, or the item itself)
// and its value node.
func Walk(n *yaml.Node, key string, fn func(key string, keyNode, value *yaml.Node)) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			Walk(c, key, fn)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			k := fmt.Sprint(i)
			if key != "" {
				k = key + "." + k
			}
			fn(k, c, c)
			Walk(c, k, fn)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if key != "" {
				k = key + "." + k
			}
			fn(k, n.Content[i], n.Content[i+1])
			Walk(n.Content[i+1], k, fn)
		}
	}
}

// CheckKnown reports mapping keys under n that match no yaml-tagged field
// of the struct type t, recursively through structs, pointers, slices and
// string-keyed maps. Types implementing yaml.Unmarshaler are not entered.
func CheckKnown(n *yaml.Node, t reflect.Type, key string, report func(key string, line int)) {
	if n.Kind == yaml.DocumentNode {
		for _, c := range n.Content {
			CheckKnown(c, t, key, report)
		}
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return
	}
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		fields := map[string]reflect.Type{}
		addFields(t, fields)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			full := join(key, k)
			ft, ok := fields[k]
			if !ok {
				report(full, n.Content[i].Line)
				continue
			}
			CheckKnown(n.Content[i+1], ft, full, report)
		}
	case t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			CheckKnown(n.Content[i+1], t.Elem(), join(key, n.Content[i].Value), report)
		}
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i, c := range n.Content {
			CheckKnown(c, t.Elem(), join(key, fmt.Sprint(i)), report)
		}
	}
}

// addFields records the yaml-tagged fields of struct type t, entering
// fields tagged ",inline".
func addFields(t reflect.Type, fields map[string]reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case opts == "inline" && f.Type.Kind() == reflect.Struct:
			addFields(f.Type, fields)
		case tag != "" && tag != "-":
			fields[tag] = f.Type
		}
	}
}

var unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()

func join(key, k string) string {
	if key == "" {
		return k
	}
	return key + "." + k
}

var lineRef = regexp.MustCompile(`line (\d+)`)

// ErrorLine returns the line number a yaml.v3 error message names, or 0.
func ErrorLine(err error) int {
	m := lineRef.FindStringSubmatch(err.Error())
	if m == nil {
		return 0
	}
	var n int
	fmt.Sscan(m[1], &n)
	return n
}

// TypeErrors turns the messages of a yaml.v3 decoding error ("line N:
// cannot unmarshal ...") into Errors naming the longest key found on that
// line. Other errors become one Error without a line.
func TypeErrors(file string, err error, lines map[string]int) []error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return []error{&Error{File: file, Line: ErrorLine(err), Msg: strings.TrimPrefix(err.Error(), "yaml: ")}}
	}
	out := make([]error, 0, len(te.Errors))
	for _, msg := range te.Errors {
		line := ErrorLine(errors.New(msg))
		if i := strings.Index(msg, ": "); i > 0 && strings.HasPrefix(msg, "line ") {
			msg = msg[i+2:]
		}
		key := ""
		for k, l := range lines {
			if l == line && (key == "" || len(k) > len(key) || len(k) == len(key) && k < key) {
				key = k
			}
		}
		out = append(out, &Error{File: file, Line: line, Key: key, Msg: msg})
	}
	return out
}
