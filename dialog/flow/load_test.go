package flow

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDemoParses(t *testing.T) {
	f, err := Demo()
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "demo" || f.Start != "welcome" || len(f.Languages) != 2 {
		t.Fatalf("demo = %s start %s languages %v", f.Name, f.Start, f.Languages)
	}
	if s := f.Step("confirm"); s == nil || s.Slot.Type != SlotYesNo || s.Name() != "confirm" {
		t.Fatalf("confirm step = %+v", s)
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ok.yaml")
	if err := os.WriteFile(path, DemoYAML, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.File() != path {
		t.Fatalf("File() = %q", f.File())
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

// base is a valid flow the cases below break one line at a time.
const base = `name: t
languages: [en, fr]
start: menu
steps:
  menu:
    say: {en: "Pick", fr: "Choisissez"}
    intents:
      a: {examples: {en: [alpha], fr: [alpha]}, dtmf: "1", goto: bye}
  bye:
    say: {en: "Bye", fr: "Salut"}
    hangup: true
`

func TestCheckReportsLineAndKey(t *testing.T) {
	tests := []struct {
		name     string
		old, new string // replace old by new in base
		want     string // "line: key: message" substring
	}{
		{"yaml syntax", `start: menu`, "start: menu\nname: x: y", "hook.yaml:4: mapping values are not allowed in this context"},
		{"unknown key", `start: menu`, "start: menu\ncolour: red", "hook.yaml:4: colour: unknown key"},
		{"unknown step key", `    hangup: true`, "    hangup: true\n    hangupp: true", "hook.yaml:12: steps.bye.hangupp: unknown key"},
		{"missing start", `start: menu`, `start: nowhere`, `hook.yaml:3: start: no step named "nowhere"`},
		{"bad goto", `goto: bye}`, `goto: byee}`, `hook.yaml:8: steps.menu.intents.a.goto: no step named "byee"`},
		{"missing language", `say: {en: "Bye", fr: "Salut"}`, `say: {en: "Bye"}`, "hook.yaml:10: steps.bye.say: no text in fr"},
		{"foreign language", `say: {en: "Bye", fr: "Salut"}`, `say: {en: "Bye", fr: "Salut", de: "Tschüss"}`, "steps.bye.say.de: language de is not in the flow's languages"},
		{"missing examples", `examples: {en: [alpha], fr: [alpha]}`, `examples: {en: [alpha]}`, "hook.yaml:8: steps.menu.intents.a.examples: no example in fr"},
		{"bad dtmf", `dtmf: "1"`, `dtmf: "12"`, `steps.menu.intents.a.dtmf: want one key of 0-9 * # A-D, got "12"`},
		{"two actions", `    hangup: true`, "    hangup: true\n    transfer: \"+33123456789\"", "steps.bye: a step does one of"},
		{"bad transfer", `    hangup: true`, `    transfer: "pbx"`, `steps.bye.transfer: want a sip: or sips: URI or a phone number`},
		{"dead end", `    hangup: true`, ``, "steps.bye: the step ends nowhere"},
		{"bad duration", `start: menu`, "start: menu\ndefaults: {no_input_timeout: soon}", "hook.yaml:4: defaults.no_input_timeout: want a duration"},
		{"type error", `start: menu`, "start: menu\ndefaults: {max_retries: many}", "hook.yaml:4"},
		{"bad slot type", `    intents:
      a: {examples: {en: [alpha], fr: [alpha]}, dtmf: "1", goto: bye}`, `    slot: {name: x, type: colour}
    goto: bye`, `steps.menu.slot.type: want number, digits, yes_no, date, text or list, got "colour"`},
		{"list without values", `    intents:
      a: {examples: {en: [alpha], fr: [alpha]}, dtmf: "1", goto: bye}`, `    slot: {name: x, type: list}
    goto: bye`, `steps.menu.slot.values: a list slot needs values`},
		{"when without slot", `dtmf: "1", goto: bye}`, "dtmf: \"1\", goto: bye}\n    when: {\"yes\": bye}", "steps.menu.when: when chooses by the slot's value"},
		{"unreachable", `  bye:`, "  orphan:\n    say: x\n    hangup: true\n  bye:", "hook.yaml:9: steps.orphan: unreachable"},
		{"loop", `start: menu`, "start: a1\n", "goto loop that never waits for input"},
		{"webhook without on_error", `    hangup: true`, "    webhook: {url: \"https://x.example/h\"}\n    goto: menu", "steps.bye.webhook: needs on_error"},
		{"webhook bad url", `    hangup: true`, "    webhook: {url: \"ftp://x\", on_error: menu}\n    goto: menu", `steps.bye.webhook.url: want an http or https URL`},
		{"webhook unset env", `    hangup: true`, "    webhook: {url: \"${NOPE}/x\", on_error: menu}\n    goto: menu", "steps.bye.webhook.url: environment variable NOPE is not set"},
		{"global key clash", `start: menu`, "start: menu\nglobals:\n  op: {examples: [operator], dtmf: \"1\", goto: bye}", "steps.menu.intents.a.dtmf: key 1 is taken by global intent op"},
		{"global bad action", `start: menu`, "start: menu\nglobals:\n  op: {examples: [operator], action: dance}", `globals.op.action: want goto, repeat or help, got "dance"`},
		{"bad language", `languages: [en, fr]`, `languages: [en, French]`, `languages.1: want a lower-case language code`},
		{"empty", base, ``, "hook.yaml: empty flow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(base, tt.old, tt.new, 1)
			if src == base {
				t.Fatalf("case does not change the flow: %q not found", tt.old)
			}
			if tt.name == "loop" {
				src += "  a1:\n    say: x\n    goto: a2\n  a2:\n    say: y\n    goto: a1\n"
			}
			_, err := Parse("hook.yaml", []byte(src), nil)
			if err == nil {
				t.Fatalf("Parse accepted the broken flow:\n%s", src)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error\n%v\ndoes not contain\n%s", err, tt.want)
			}
		})
	}
	if _, err := Parse("hook.yaml", []byte(base), nil); err != nil {
		t.Fatalf("the base flow is invalid: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(base))
	f.Add(DemoYAML)
	f.Add([]byte(webhookFlow))
	f.Add([]byte("steps: {a: {goto: a}}\nstart: a"))
	f.Add([]byte("- [\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fl, err := Parse("fuzz.yaml", data, nil)
		if err != nil {
			if fl != nil {
				t.Fatal("Parse returned a flow and an error")
			}
			return
		}
		if _, err := New(fl); err != nil {
			return
		}
	})
}
