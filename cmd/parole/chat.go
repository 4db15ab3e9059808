package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/dialog/store"
)

const chatHelp = `Type what you would say. A number picks the numbered choice;
/dtmf 123 presses keys, /silence sends a no-input, /restart starts over,
/quit (or end of input) leaves.
`

// chatCommand runs `parole chat`: a conversation with the bot in the
// terminal, on the local call flow.
func chatCommand(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	flowPath := fs.String("flow", "", "YAML call flow (default: the embedded demo flow)")
	lang := fs.String("lang", "en", "language tag of the conversation, e.g. fr-FR")
	voice := fs.Bool("voice", false, "answer as on a voice channel (SSML, no buttons)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	bot, err := loadFlow(*flowPath, logger)
	if err != nil {
		return err
	}
	st := store.NewMemory(store.Options{})
	defer st.Close()
	r := runner.New(bot, st, runner.WithLogger(logger))
	session := runner.Session{ConversationID: "terminal", Channel: "terminal", ChannelUserID: "you", Locale: *lang, Voice: *voice}
	fmt.Fprint(stdout, chatHelp)

	var choices []dialog.Choice
	send := func(ev dialog.Event) (bool, error) {
		reply, err := r.Handle(ctx, session, ev)
		if err != nil {
			return false, err
		}
		choices = printReply(stdout, reply)
		return reply.Hangup || reply.Transfer != nil, nil
	}
	if _, err := send(dialog.Event{Type: dialog.EventStart}); err != nil {
		return err
	}
	in := bufio.NewScanner(stdin)
	for {
		fmt.Fprint(stdout, "> ")
		if !in.Scan() {
			fmt.Fprintln(stdout)
			_, err := r.Handle(ctx, session, dialog.Event{Type: dialog.EventEnd})
			return errors.Join(err, in.Err())
		}
		line := strings.TrimSpace(in.Text())
		var ev dialog.Event
		switch {
		case line == "":
			continue
		case line == "/quit":
			_, err := r.Handle(ctx, session, dialog.Event{Type: dialog.EventEnd})
			return err
		case line == "/silence":
			ev = dialog.Event{Type: dialog.EventNoInput}
		case line == "/restart":
			ev = dialog.Event{Type: dialog.EventStart}
		case strings.HasPrefix(line, "/dtmf "):
			ev = dialog.Event{Type: dialog.EventDTMF, Digits: strings.TrimSpace(strings.TrimPrefix(line, "/dtmf "))}
		default:
			ev = dialog.Text(line)
			if n, err := strconv.Atoi(line); err == nil && n >= 1 && n <= len(choices) {
				ev = dialog.Event{Type: dialog.EventChoice, Choice: choices[n-1].Value()}
			}
		}
		ended, err := send(ev)
		if errors.Is(err, dialog.ErrInvalidEvent) {
			fmt.Fprintln(stdout, "(", err, ")")
			continue
		}
		if err != nil {
			return err
		}
		if ended {
			fmt.Fprintln(stdout, "(conversation ended: type anything to start again, /quit to leave)")
		}
	}
}

// printReply prints a reply for a person and returns its choices, numbered
// from 1 in the output.
func printReply(w io.Writer, r dialog.Reply) []dialog.Choice {
	var choices []dialog.Choice
	for _, m := range r.Messages {
		switch {
		case m.Text != "":
			fmt.Fprintln(w, "bot:", m.Text)
		case m.SSML != "":
			fmt.Fprintln(w, "bot (ssml):", m.SSML)
		case m.Audio != nil:
			fmt.Fprintf(w, "bot (audio %s): %s\n", m.Audio.URL, m.Audio.Text)
		}
		for _, c := range m.Choices {
			choices = append(choices, c)
			fmt.Fprintf(w, "  [%d] %s\n", len(choices), c.Title)
		}
	}
	switch {
	case r.Transfer != nil:
		fmt.Fprintln(w, "(transfer to", r.Transfer.Target+")")
	case r.Hangup:
		fmt.Fprintln(w, "(hang up)")
	}
	return choices
}
