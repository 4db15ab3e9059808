package main

import (
	"log/slog"

	"github.com/parole-voice/parole/dialog/flow"
)

// loadFlow returns the engine of the configured call flow, or of the
// embedded demo flow when none is configured.
func loadFlow(path string, logger *slog.Logger) (*flow.Engine, error) {
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
	return flow.New(f, flow.WithLogger(logger))
}
