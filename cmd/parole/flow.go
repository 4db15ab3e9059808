package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/parole-voice/parole/dialog/flow"
)

// flowCommand runs `parole flow check FILE...` and `parole flow demo`.
func flowCommand(args []string, stdout, stderr io.Writer) error {
	switch {
	case len(args) >= 2 && args[0] == "check":
		var failed error
		for _, path := range args[1:] {
			f, err := flow.Load(path)
			if err == nil {
				_, err = flow.New(f)
			}
			if err != nil {
				// One problem a line, each with file:line: key: message.
				fmt.Fprintln(stderr, err)
				failed = errors.Join(failed, fmt.Errorf("%s: invalid call flow", path))
				continue
			}
			fmt.Fprintf(stdout, "%s: ok (%d steps, languages %v)\n", path, len(f.Steps), f.Languages)
		}
		if failed != nil {
			return errFlowInvalid
		}
		return nil
	case len(args) == 1 && args[0] == "demo":
		_, err := stdout.Write(flow.DemoYAML)
		return err
	default:
		fmt.Fprint(stderr, "usage: parole flow check FILE... | parole flow demo\n")
		return errUsage
	}
}

// errFlowInvalid is returned once the problems of a flow have been printed.
var errFlowInvalid = errors.New("call flow check failed")
