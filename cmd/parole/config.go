package main

import (
	"fmt"
	"io"

	"github.com/parole-voice/parole/internal/config"
)

func configCommand(args []string, stdout, stderr io.Writer) error {
	switch {
	case len(args) == 1 && args[0] == "example":
		_, err := io.WriteString(stdout, config.Example)
		return err
	case len(args) == 2 && args[0] == "check":
		if _, err := config.Load(args[1]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: ok\n", args[1])
		return nil
	default:
		fmt.Fprint(stderr, "usage: parole config example | parole config check FILE\n")
		return errUsage
	}
}
