package session

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// PrometheusMetrics is a [Metrics] that exports the sessions' figures to
// Prometheus: a histogram of each turn stage's duration
// (parole_voice_turn_stage_seconds{stage}) and a counter of each event
// (parole_voice_events_total{event}).
type PrometheusMetrics struct {
	stages *prometheus.HistogramVec
	events *prometheus.CounterVec
}

// NewPrometheusMetrics creates the metrics and registers them with reg.
func NewPrometheusMetrics(reg prometheus.Registerer) (*PrometheusMetrics, error) {
	m := &PrometheusMetrics{
		stages: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "parole_voice_turn_stage_seconds",
			Help: "Duration of each stage of a voice turn: endpointing, stt, dialog, tts, playout, total, and overhead (parole's own time, engines excluded).",
			// 0.5 ms to about 16 s.
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"stage"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parole_voice_events_total",
			Help: "Voice session events: calls, turns, barge-ins, no-inputs, no-matches, DTMF, engine errors.",
		}, []string{"event"}),
	}
	for _, c := range []prometheus.Collector{m.stages, m.events} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	for _, s := range StageNames {
		m.stages.WithLabelValues(s) // export every stage from the start
	}
	return m, nil
}

// ObserveStage implements [Metrics].
func (m *PrometheusMetrics) ObserveStage(stage string, d time.Duration) {
	m.stages.WithLabelValues(stage).Observe(d.Seconds())
}

// Count implements [Metrics].
func (m *PrometheusMetrics) Count(what string) { m.events.WithLabelValues(what).Inc() }
