package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/internal/config"
	"github.com/parole-voice/parole/stt"
	sttallomedia "github.com/parole-voice/parole/stt/allomedia"
	sttfallback "github.com/parole-voice/parole/stt/fallback"
	sttgoogle "github.com/parole-voice/parole/stt/google"
	sttnuance "github.com/parole-voice/parole/stt/nuance"
	"github.com/parole-voice/parole/stt/sphinx"
	"github.com/parole-voice/parole/telephony"
	"github.com/parole-voice/parole/telephony/session"
	"github.com/parole-voice/parole/tts"
	"github.com/parole-voice/parole/tts/cache"
	"github.com/parole-voice/parole/tts/espeak"
	ttsfallback "github.com/parole-voice/parole/tts/fallback"
	ttsgoogle "github.com/parole-voice/parole/tts/google"
	ttsnuance "github.com/parole-voice/parole/tts/nuance"
	"github.com/parole-voice/parole/tts/voxygen"
)

// voice holds what every call leg shares: the speech engines the voice
// configuration chooses (each synthesizer behind its prompt cache), the
// session metrics, and the runner the sessions talk to.
type voice struct {
	cfg     config.VoiceConfig
	rec     stt.Recognizer
	synth   tts.Synthesizer
	metrics session.Metrics
	run     *runner.Runner
	// flows are the other flows by name, chosen by a call's route.
	flows map[string]*runner.Runner
	// recs and synths are the engines by name (behind their fallback and
	// cache), for the flows that choose their own.
	recs   map[string]stt.Recognizer
	synths map[string]tts.Synthesizer
	// summaries, when set, sends a summary of each ended call.
	summaries *callSummaries
	log       *slog.Logger
	// observe, when set, gives each call's live event stream (the live
	// call view).
	observe func(telephony.Info) session.Observer
	closers []io.Closer
}

// newVoice opens the engines cfg names. Close releases them.
func newVoice(ctx context.Context, cfg config.VoiceConfig, run *runner.Runner, reg prometheus.Registerer, logger *slog.Logger) (*voice, error) {
	v := &voice{cfg: cfg, run: run, log: logger}
	recs := map[string]stt.Recognizer{}
	for _, name := range cfg.STT.Used() {
		r, err := v.openRecognizer(ctx, name)
		if err != nil {
			v.Close()
			return nil, fmt.Errorf("voice: %s recognizer: %w", name, err)
		}
		recs[name] = r
	}
	synths := map[string]tts.Synthesizer{}
	for _, name := range cfg.TTS.Used() {
		s, err := v.openSynthesizer(ctx, name)
		if err != nil {
			v.Close()
			return nil, fmt.Errorf("voice: %s synthesizer: %w", name, err)
		}
		c, err := cache.New(s, cache.Options{Engine: name, MaxBytes: cfg.TTS.CacheBytes, Dir: cfg.TTS.CacheDir})
		if err != nil {
			v.Close()
			return nil, fmt.Errorf("voice: prompt cache: %w", err)
		}
		synths[name] = c
	}
	// Every engine but the fallback itself hands over to the fallback when
	// it fails; each synthesizer keeps its own cache on both sides.
	if fb := cfg.STT.Fallback; fb != "" {
		for name, r := range recs {
			if name == fb {
				continue
			}
			f, err := sttfallback.New(r, recs[fb], cfg.STT.Breaker, sttfallback.WithLogger(logger.With("engine", name)))
			if err != nil {
				v.Close()
				return nil, fmt.Errorf("voice: stt fallback: %w", err)
			}
			recs[name] = f
		}
	}
	if fb := cfg.TTS.Fallback; fb != "" {
		for name, s := range synths {
			if name == fb {
				continue
			}
			f, err := ttsfallback.New(s, synths[fb], cfg.TTS.Breaker, ttsfallback.WithLogger(logger.With("engine", name)))
			if err != nil {
				v.Close()
				return nil, fmt.Errorf("voice: tts fallback: %w", err)
			}
			synths[name] = f
		}
	}
	v.recs, v.synths = recs, synths
	v.rec, v.synth = recs[cfg.STT.Engine], synths[cfg.TTS.Engine]
	if len(cfg.STT.Languages) > 0 {
		by := stt.ByLanguage{Engines: map[string]stt.Recognizer{}, Default: v.rec}
		for lang, name := range cfg.STT.Languages {
			by.Engines[lang] = recs[name]
		}
		v.rec = by
	}
	if len(cfg.TTS.Languages) > 0 {
		by := tts.ByLanguage{Engines: map[string]tts.Synthesizer{}, Default: v.synth}
		for lang, name := range cfg.TTS.Languages {
			by.Engines[lang] = synths[name]
		}
		v.synth = by
	}
	if reg != nil {
		m, err := session.NewPrometheusMetrics(reg)
		if err != nil {
			v.Close()
			return nil, fmt.Errorf("voice: metrics: %w", err)
		}
		v.metrics = m
	}
	return v, nil
}

func (v *voice) openRecognizer(ctx context.Context, name string) (stt.Recognizer, error) {
	switch name {
	case config.EngineSphinx:
		r, err := sphinx.New(sphinx.Config{})
		if err != nil {
			return nil, err
		}
		v.closers = append(v.closers, r)
		return r, nil
	case config.EngineGoogle:
		r, err := sttgoogle.New(ctx, v.cfg.STT.Google)
		if err != nil {
			return nil, err
		}
		v.closers = append(v.closers, r)
		return r, nil
	case config.EngineAlloMedia:
		return sttallomedia.New(v.cfg.STT.AlloMedia)
	case config.EngineNuance:
		r, err := sttnuance.New(v.cfg.STT.Nuance)
		if err != nil {
			return nil, err
		}
		v.closers = append(v.closers, r)
		return r, nil
	}
	return nil, fmt.Errorf("unknown engine %q", name)
}

func (v *voice) openSynthesizer(ctx context.Context, name string) (tts.Synthesizer, error) {
	switch name {
	case config.EngineEspeak:
		return espeak.New(espeak.Options{})
	case config.EngineGoogle:
		s, err := ttsgoogle.New(ctx, v.cfg.TTS.Google)
		if err != nil {
			return nil, err
		}
		v.closers = append(v.closers, s)
		return s, nil
	case config.EngineVoxygen:
		return voxygen.New(v.cfg.TTS.Voxygen)
	case config.EngineNuance:
		s, err := ttsnuance.New(v.cfg.TTS.Nuance)
		if err != nil {
			return nil, err
		}
		v.closers = append(v.closers, s)
		return s, nil
	}
	return nil, fmt.Errorf("unknown engine %q", name)
}

// Close releases the engines.
func (v *voice) Close() error {
	var errs []error
	for _, c := range v.closers {
		errs = append(errs, c.Close())
	}
	v.closers = nil
	return errors.Join(errs...)
}

// onCall returns the function a call leg runs for each call: the voice
// session in language (voice.language when empty) until the call ends.
func (v *voice) onCall(leg, language string) func(ctx context.Context, call telephony.Call) {
	return func(ctx context.Context, call telephony.Call) { v.runCall(ctx, call, leg, language) }
}

// runCall runs the voice session on call until it ends; its events go to the
// live view and to the extra observers (a browser call's own page).
func (v *voice) runCall(ctx context.Context, call telephony.Call, leg, language string, extra ...session.Observer) {
	if language == "" {
		language = v.cfg.Language
	}
	info := call.Info()
	logger := v.log.With("leg", leg, "call", info.ID)
	cfg := session.Config{
		Dialog: v.run, Recognizer: v.rec, Synthesizer: v.synth, Language: language,
		Logger: logger, Metrics: v.metrics,
	}
	if r, ok := call.(interface{ Route() string }); ok && r.Route() != "" && r.Route() != mainRoute {
		flow := r.Route()
		if run, ok := v.flows[flow]; ok {
			cfg.Dialog = run
			cfg.Logger = logger.With("flow", flow)
			if e, ok := v.cfg.STT.Flows[flow]; ok {
				cfg.Recognizer = v.recs[e]
			}
			if e, ok := v.cfg.TTS.Flows[flow]; ok {
				cfg.Synthesizer = v.synths[e]
			}
		} else {
			logger.Warn("no flow for the call's route: the main flow answers", "route", flow)
		}
	}
	observers := extra
	if v.observe != nil {
		observers = append(observers, v.observe(info))
	}
	switch len(observers) {
	case 0:
	case 1:
		cfg.Observer = observers[0]
	default:
		cfg.Observer = session.ObserverFunc(func(e session.Event) {
			for _, o := range observers {
				o.Observe(e)
			}
		})
	}
	if err := session.Run(ctx, call, cfg); err != nil && ctx.Err() == nil {
		cfg.Logger.Warn("call ended with an error", "error", err)
	}
	if tr, ok := cfg.Dialog.(transcriptReader); ok && v.summaries != nil {
		v.summaries.callEnded(ctx, info, tr)
	}
}
