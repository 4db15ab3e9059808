package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	webchat "github.com/parole-voice/parole/connectors/web"
	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/dialog/store"
)

const chatHelp = `Type what you would say. A number picks the numbered choice;
/dtmf 123 presses keys, /silence sends a no-input, /restart starts over,
/quit (or end of input) leaves.
`

// chatCommand runs `parole chat`: a conversation with the bot in the
// terminal, on the local call flow or with a running parole server over its
// web chat channel.
func chatCommand(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	flowPath := fs.String("flow", "", "YAML call flow (default: the embedded demo flow)")
	lang := fs.String("lang", "en", "language tag of the conversation, e.g. fr-FR")
	voice := fs.Bool("voice", false, "answer as on a voice channel (SSML, no buttons)")
	server := fs.String("server", "", "talk to a running parole at this URL (its web chat channel, e.g. http://localhost:8080) instead of a local flow")
	path := fs.String("path", webchat.DefaultPath, "the server's web chat path (connectors.web.path)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	var peer func(context.Context, dialog.Event) (dialog.Reply, error)
	if *server != "" {
		peer = newRemoteChat(*server, *path, *lang).handle
	} else {
		logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		bot, err := loadFlow(*flowPath, logger, nil)
		if err != nil {
			return err
		}
		st := store.NewMemory(store.Options{})
		defer st.Close()
		r := runner.New(bot, st, runner.WithLogger(logger))
		session := runner.Session{ConversationID: "terminal", Channel: "terminal", ChannelUserID: "you", Locale: *lang, Voice: *voice}
		peer = func(ctx context.Context, ev dialog.Event) (dialog.Reply, error) { return r.Handle(ctx, session, ev) }
	}
	fmt.Fprint(stdout, chatHelp)

	var choices []dialog.Choice
	send := func(ev dialog.Event) (bool, error) {
		reply, err := peer(ctx, ev)
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
			_, err := peer(ctx, dialog.Event{Type: dialog.EventEnd})
			return errors.Join(err, in.Err())
		}
		line := strings.TrimSpace(in.Text())
		var ev dialog.Event
		switch {
		case line == "":
			continue
		case line == "/quit":
			_, err := peer(ctx, dialog.Event{Type: dialog.EventEnd})
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
		if errors.Is(err, dialog.ErrInvalidEvent) || errors.Is(err, errNotOnText) {
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

// errNotOnText is returned for events a text channel cannot carry.
var errNotOnText = errors.New("the web chat channel carries text and choices only")

// remoteChat talks to a running parole through its Tock-compatible web chat
// channel, as a chat widget would.
type remoteChat struct {
	url, user, locale string
	client            *http.Client
}

func newRemoteChat(server, path, locale string) *remoteChat {
	var id [8]byte
	rand.Read(id[:])
	return &remoteChat{
		url:    strings.TrimSuffix(server, "/") + path,
		user:   "terminal-" + hex.EncodeToString(id[:]),
		locale: locale,
		client: &http.Client{Timeout: 30 * time.Second},
	}
}

// handle sends ev as a Tock web request and turns the answer back into a
// reply.
func (c *remoteChat) handle(ctx context.Context, ev dialog.Event) (dialog.Reply, error) {
	req := webchat.Request{UserID: c.user, Locale: c.locale}
	switch ev.Type {
	case dialog.EventStart: // an empty request opens the conversation
	case dialog.EventText:
		req.Query = ev.Text
	case dialog.EventChoice:
		req.Payload = ev.Choice
	case dialog.EventEnd:
		return dialog.Reply{}, nil
	default:
		return dialog.Reply{}, errNotOnText
	}
	body, err := json.Marshal(req)
	if err != nil {
		return dialog.Reply{}, err
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return dialog.Reply{}, fmt.Errorf("chat: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	res, err := c.client.Do(hreq)
	if err != nil {
		return dialog.Reply{}, fmt.Errorf("chat: %w", err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return dialog.Reply{}, fmt.Errorf("chat: %s: %w", c.url, err)
	}
	if res.StatusCode != http.StatusOK {
		return dialog.Reply{}, fmt.Errorf("chat: %s answered %s: %s", c.url, res.Status, bytes.TrimSpace(data))
	}
	var resp webchat.Response
	if err := json.Unmarshal(data, &resp); err != nil {
		return dialog.Reply{}, fmt.Errorf("chat: %s: not a web chat answer: %w", c.url, err)
	}
	var r dialog.Reply
	for _, m := range resp.Responses {
		msg := dialog.Message{Text: m.Text}
		buttons := m.Buttons
		if m.Card != nil {
			msg.Text = strings.TrimSpace(m.Card.Title + " " + m.Card.SubTitle)
			buttons = append(buttons, m.Card.Buttons...)
		}
		for _, b := range buttons {
			msg.Choices = append(msg.Choices, dialog.Choice{Title: b.Title, Payload: b.Payload, URL: b.URL})
		}
		if msg.Text != "" || len(msg.Choices) > 0 {
			r.Messages = append(r.Messages, msg)
		}
	}
	if t := resp.Metadata["transfer"]; t != "" {
		r.Transfer = &dialog.Transfer{Target: t}
	} else if resp.Metadata["end"] == "true" {
		r.Hangup = true
	}
	return r, nil
}
