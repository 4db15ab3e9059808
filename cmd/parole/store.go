package main

import (
	"context"
	"fmt"

	"github.com/parole-voice/parole/dialog/store"
	"github.com/parole-voice/parole/internal/config"
)

// openStore opens the configured conversation store.
func openStore(ctx context.Context, c config.DialogConfig) (store.Store, error) {
	switch c.Store {
	case "memory":
		return store.NewMemory(store.Options{}), nil
	case "embedded":
		s, err := store.OpenBolt(c.StorePath, store.Options{})
		if err != nil {
			return nil, fmt.Errorf("embedded store %s: %w", c.StorePath, err)
		}
		return s, nil
	case "redis":
		s, err := store.NewRedis(ctx, c.RedisURL, store.Options{})
		if err != nil {
			return nil, fmt.Errorf("redis store: %w", err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("unknown store %q", c.Store)
}
