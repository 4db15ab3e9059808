package main

import (
	"log/slog"

	"github.com/parole-voice/parole/dialog/flow"
	"github.com/parole-voice/parole/dialog/intent"
	"github.com/parole-voice/parole/internal/config"
)

// loadFlow returns the engine of the configured call flow, or of the
// embedded demo flow when none is configured, asking nlu (when not nil)
// before the built-in matcher.
func loadFlow(path string, logger *slog.Logger, nlu intent.NLU) (*flow.Engine, error) {
	var f *flow.Flow
	var err error
	if path == "" {
		f, err = flow.Demo()
	} else {
		f, err = flow.Load(path)
	}
	if err != nil {
		return nil, err
	}
	opts := []flow.Option{flow.WithLogger(logger)}
	if nlu != nil {
		opts = append(opts, flow.WithNLU(nlu))
	}
	return flow.New(f, opts...)
}

// nluOf returns the configured external NLU, or nil.
func nluOf(c config.DialogConfig) intent.NLU {
	if c.RasaURL == "" {
		return nil
	}
	return &intent.Rasa{URL: c.RasaURL, Token: c.RasaToken, Timeout: c.RasaTimeout}
}
