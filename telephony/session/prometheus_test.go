package session

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestPrometheusMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewPrometheusMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	m.ObserveStage("stt", 3*time.Millisecond)
	m.ObserveStage("stt", 300*time.Millisecond)
	m.Count("barge_in")
	m.Count("barge_in")
	if n := testutil.CollectAndCount(m.stages); n != len(StageNames) {
		t.Fatalf("%d stage series, want one per stage (%d)", n, len(StageNames))
	}
	if v := testutil.ToFloat64(m.events.WithLabelValues("barge_in")); v != 2 {
		t.Fatalf("barge_in count = %v", v)
	}
	want := `
# HELP parole_voice_events_total Voice session events: calls, turns, barge-ins, no-inputs, no-matches, DTMF, engine errors.
# TYPE parole_voice_events_total counter
parole_voice_events_total{event="barge_in"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "parole_voice_events_total"); err != nil {
		t.Fatal(err)
	}
	if _, err := NewPrometheusMetrics(reg); err == nil {
		t.Fatal("registering twice must fail")
	}
}
