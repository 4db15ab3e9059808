// Command parole is the voice and callbot media pipeline: one binary that
// serves calls and chats (`parole serve`) and exposes its parts from the
// command line.
//
// Usage:
//
//	parole serve [-config FILE] [-http ADDR] [-flow FILE] [-store KIND] [-log-level LEVEL]
//	parole config example
//	parole config check FILE
//	parole flow check FILE...
//	parole chat [-flow FILE] [-lang TAG] [-voice] [-server URL]
//	parole say [-lang TAG] [-rate HZ] -o OUT.wav TEXT
//	parole call -in QUESTION.wav [-out REPLY.wav] [-flow FILE] [-lang TAG]
//	parole transcribe FILE.wav
//	parole flow demo
//	parole version
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// errUsage marks a command-line mistake: the usage has been printed.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "parole:", err)
		os.Exit(1)
	}
}

const usage = `parole — voice and callbot media pipeline

Usage:
  parole serve [flags]          run the server (parole serve -h for flags)
  parole config example         print a commented configuration with every key
  parole config check FILE      validate a configuration file
  parole flow check FILE...     validate call flows (errors name file:line: key)
  parole flow demo              print the embedded demo call flow
  parole chat [flags]           talk to the call flow in the terminal (parole chat -h)
  parole say [flags] TEXT       synthesize TEXT or SSML into a WAV file (parole say -h)
  parole call -in Q.wav [flags] run one call from a WAV through the voice pipeline (parole call -h)
  parole transcribe FILE.wav    print the transcript of a WAV file (parole transcribe -h)
  parole version                print the version
`

// run executes one parole command with its arguments.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "serve":
		return serveCommand(ctx, args[1:], stdout, stderr)
	case "config":
		return configCommand(args[1:], stdout, stderr)
	case "flow":
		return flowCommand(args[1:], stdout, stderr)
	case "chat":
		return chatCommand(ctx, args[1:], stdin, stdout, stderr)
	case "say":
		return sayCommand(ctx, args[1:], stdout, stderr)
	case "call":
		return callCommand(ctx, args[1:], stdout, stderr)
	case "transcribe":
		return transcribeCommand(ctx, args[1:], stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "parole", version)
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprintf(stderr, "parole: unknown command %q\n\n%s", args[0], usage)
		return errUsage
	}
}
