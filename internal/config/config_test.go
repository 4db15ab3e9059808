package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func noEnv(string) (string, bool) { return "", false }

func TestExampleIsDefault(t *testing.T) {
	cfg, err := Parse("example.yaml", []byte(Example), noEnv)
	if err != nil {
		t.Fatalf("the printed example must load: %v", err)
	}
	if !reflect.DeepEqual(cfg, Default()) {
		t.Errorf("example.yaml differs from Default():\n got %+v\nwant %+v", cfg, Default())
	}
}

func TestEmptyFileGivesDefaults(t *testing.T) {
	cfg, err := Parse("empty.yaml", nil, noEnv)
	if err != nil || !reflect.DeepEqual(cfg, Default()) {
		t.Fatalf("Parse(empty) = %+v, %v", cfg, err)
	}
}

func TestOverridesAndEnv(t *testing.T) {
	data := "server:\n  http: 127.0.0.1:9090\n  shutdown_timeout: 3s\ndialog:\n  store: redis\n  redis_url: redis://:${PW}@127.0.0.1:6379/0\n"
	env := func(k string) (string, bool) {
		if k == "PW" {
			return "s3cret", true
		}
		return "", false
	}
	cfg, err := Parse("p.yaml", []byte(data), env)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.HTTP != "127.0.0.1:9090" || cfg.Server.ShutdownTimeout != 3*time.Second {
		t.Errorf("server = %+v", cfg.Server)
	}
	if cfg.Dialog.RedisURL != "redis://:s3cret@127.0.0.1:6379/0" {
		t.Errorf("redis_url = %q", cfg.Dialog.RedisURL)
	}
	if cfg.Log != Default().Log {
		t.Errorf("untouched section changed: %+v", cfg.Log)
	}
}

func TestErrorsNameKeyAndLine(t *testing.T) {
	data := strings.Join([]string{
		"server:",                  // 1
		"  http: nocolon",          // 2
		"  shutdown_timeout: soon", // 3
		"  colour: blue",           // 4
		"log:",                     // 5
		"  level: loud",            // 6
		"dialog:",                  // 7
		"  redis_url: ${MISSING}",  // 8
		"  store: redis",           // 9
	}, "\n")
	_, err := Parse("bad.yaml", []byte(data), noEnv)
	if err == nil {
		t.Fatal("want errors")
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("error does not wrap ErrInvalid: %v", err)
	}
	want := []string{
		"bad.yaml:2: server.http: want host:port",
		"bad.yaml:3: server.shutdown_timeout: cannot unmarshal",
		"bad.yaml:4: server.colour: unknown key",
		"bad.yaml:6: log.level: want debug, info, warn or error",
		"bad.yaml:8: dialog.redis_url: environment variable MISSING is not set",
	}
	msg := err.Error()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("missing %q in:\n%s", w, msg)
		}
	}
}

func TestSyntaxErrorHasLine(t *testing.T) {
	_, err := Parse("broken.yaml", []byte("server:\n  http: [\n"), noEnv)
	var ce *Error
	if !errors.As(err, &ce) || ce.Line == 0 || ce.File != "broken.yaml" {
		t.Fatalf("want an *Error with file and line, got %#v", err)
	}
}

func TestValidateStoreNeedsItsSetting(t *testing.T) {
	cfg := Default()
	cfg.Dialog.Store = "redis"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "dialog.redis_url") {
		t.Errorf("redis without url: %v", err)
	}
	cfg.Dialog.Store = "sqlite"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "dialog.store") {
		t.Errorf("unknown store: %v", err)
	}
}

func TestWebConnectorKeys(t *testing.T) {
	cfg, err := Parse("c.yaml", []byte("connectors:\n  web:\n    path: /chat\n    rate: 5\n    cors_origins: [\"https://*.example.com\"]\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	w := cfg.Connectors.Web
	if !w.Enabled || w.Path != "/chat" || w.Rate != 5 || w.Burst != 10 || len(w.AllowedOrigins) != 1 {
		t.Fatalf("web config = %+v", w)
	}
	_, err = Parse("c.yaml", []byte("connectors:\n  web:\n    pth: /chat\n"), noEnv)
	if err == nil || !strings.Contains(err.Error(), "c.yaml:3: connectors.web.pth: unknown key") {
		t.Fatalf("unknown inline key: %v", err)
	}
	_, err = Parse("c.yaml", []byte("connectors:\n  web:\n    path: chat/\n"), noEnv)
	if err == nil || !strings.Contains(err.Error(), "c.yaml:2: connectors.web: path \"chat/\" must start with /") {
		t.Fatalf("bad path: %v", err)
	}
	if _, err := Parse("c.yaml", []byte("connectors:\n  web:\n    enabled: false\n    path: chat/\n"), noEnv); err != nil {
		t.Fatalf("a disabled connector's settings are not checked: %v", err)
	}
}
