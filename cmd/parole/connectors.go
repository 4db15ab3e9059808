package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/parole-voice/parole/connectors/alexa"
	"github.com/parole-voice/parole/connectors/allomedia"
	"github.com/parole-voice/parole/connectors/applebusiness"
	"github.com/parole-voice/parole/connectors/googleassistant"
	"github.com/parole-voice/parole/connectors/googlechat"
	"github.com/parole-voice/parole/connectors/mattermost"
	"github.com/parole-voice/parole/connectors/messenger"
	"github.com/parole-voice/parole/connectors/rocketchat"
	"github.com/parole-voice/parole/connectors/slack"
	"github.com/parole-voice/parole/connectors/teams"
	"github.com/parole-voice/parole/connectors/twitter"
	"github.com/parole-voice/parole/connectors/whatsapp"
	"github.com/parole-voice/parole/internal/config"
)

// routed is a connector: an http.Handler and the mux patterns it serves.
type routed interface {
	http.Handler
	Routes() []string
}

// mountConnectors mounts the enabled channels other than the web chat.
func (s *server) mountConnectors(c config.ConnectorsConfig, run dialogHandler) error {
	type channel struct {
		name string
		on   bool
		open func() (routed, error)
	}
	channels := []channel{
		{"Microsoft Teams messaging endpoint", c.Teams.Enabled, func() (routed, error) {
			t, err := teams.New(run, c.Teams.Config, teams.WithLogger(s.log))
			if err != nil {
				return nil, err
			}
			if len(c.Teams.CallSummaryTo) > 0 {
				s.summaries = &callSummaries{to: c.Teams.CallSummaryTo, send: t, log: s.log, timeout: 30 * time.Second}
			}
			return t, nil
		}},
		{"Alexa skill endpoint", c.Alexa.Enabled, func() (routed, error) {
			return alexa.New(run, c.Alexa.Config, alexa.WithLogger(s.log))
		}},
		{"Google Assistant / Dialogflow webhooks", c.Google.Enabled, func() (routed, error) {
			return googleassistant.New(run, c.Google.Config, googleassistant.WithLogger(s.log))
		}},
		{"Slack events", c.Slack.Enabled, func() (routed, error) {
			return drained(slack.New(run, c.Slack.Config, slack.WithLogger(s.log)))
		}},
		{"Messenger webhook", c.Messenger.Enabled, func() (routed, error) {
			return drained(messenger.New(run, c.Messenger.Config, messenger.WithLogger(s.log)))
		}},
		{"WhatsApp webhook", c.WhatsApp.Enabled, func() (routed, error) {
			return drained(whatsapp.New(run, c.WhatsApp.Config, whatsapp.WithLogger(s.log)))
		}},
		{"Google Chat endpoint", c.GoogleChat.Enabled, func() (routed, error) {
			return drained(googlechat.New(run, c.GoogleChat.Config, googlechat.WithLogger(s.log)))
		}},
		{"Mattermost endpoint", c.Mattermost.Enabled, func() (routed, error) {
			return drained(mattermost.New(run, c.Mattermost.Config, mattermost.WithLogger(s.log)))
		}},
		{"Rocket.Chat endpoint", c.RocketChat.Enabled, func() (routed, error) {
			return drained(rocketchat.New(run, c.RocketChat.Config, rocketchat.WithLogger(s.log)))
		}},
		{"Twitter/X direct messages endpoint", c.Twitter.Enabled, func() (routed, error) {
			return drained(twitter.New(run, c.Twitter.Config, twitter.WithLogger(s.log)))
		}},
		{"Apple Messages for Business (through a messaging service provider) endpoint", c.AppleBusiness.Enabled, func() (routed, error) {
			return drained(applebusiness.New(run, c.AppleBusiness.Config, applebusiness.WithLogger(s.log)))
		}},
		{"Allo-Media endpoint", c.AlloMedia.Enabled, func() (routed, error) {
			return allomedia.New(run, c.AlloMedia.Config, allomedia.WithLogger(s.log))
		}},
	}
	for _, ch := range channels {
		if !ch.on {
			continue
		}
		h, err := ch.open()
		if err != nil {
			return fmt.Errorf("%s: %w", ch.name, err)
		}
		for _, pattern := range h.Routes() {
			s.mount(pattern, h)
		}
		if d, ok := h.(drainer); ok {
			s.drain = append(s.drain, d.Close)
		}
		s.notes = append(s.notes, note{ch.name, h.Routes()[0]})
	}
	return nil
}

// drainer is a channel that answers the platform first and runs the dialog
// afterwards: Close finishes the turns it acknowledged.
type drainer interface {
	Close(ctx context.Context) error
}

// drained passes a connector's constructor results through, typed for the
// channel table.
func drained[C routed](c C, err error) (routed, error) {
	if err != nil {
		return nil, err
	}
	return c, nil
}

// mount registers h for pattern; a pattern without a method is registered
// for GET and POST, so it sits beside the pages' "GET /" in the mux (the
// handler answers 405 to the method it does not serve).
func (s *server) mount(pattern string, h http.Handler) {
	if strings.Contains(pattern, " ") {
		s.mux.Handle(pattern, h)
		return
	}
	s.mux.Handle("GET "+pattern, h)
	s.mux.Handle("POST "+pattern, h)
}
