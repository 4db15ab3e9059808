package sphinx

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parole-voice/parole/stt"
)

// Default model files, from Debian's pocketsphinx-en-us package.
const (
	DefaultModelDir = "/usr/share/pocketsphinx/model/en-us/en-us"
	DefaultDict     = "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict"
	DefaultLM       = "/usr/share/pocketsphinx/model/en-us/en-us.lm.bin"
)

// FrontEnd says how 8 kHz telephone audio reaches the 16 kHz en-us model.
type FrontEnd int

const (
	// Upsample resamples 8 kHz audio to 16 kHz (media/resample, Medium)
	// and decodes it with the model's own 16 kHz front end. This is the
	// default: it scored better on the Asterisk prompts (see the package
	// documentation).
	Upsample FrontEnd = iota
	// Native8k runs an 8 kHz front end (-samprate 8000 -nfft 256, filter
	// bank up to 3800 Hz) on the 16 kHz model.
	Native8k
)

// String names the front end.
func (f FrontEnd) String() string {
	switch f {
	case Upsample:
		return "upsample-16k"
	case Native8k:
		return "native-8k"
	}
	return "FrontEnd(" + strconv.Itoa(int(f)) + ")"
}

// DefaultGarbageWeight is the weight of the out-of-grammar phone loop
// against 1 for the grammar's phrases.
const DefaultGarbageWeight = 1e-10

// DefaultEndSilence is the pause that ends an utterance when
// stt.Config.EndSilence is zero.
const DefaultEndSilence = 500 * time.Millisecond

// Config locates the model and tunes the recognizer. The zero value uses
// Debian's pocketsphinx-en-us model.
type Config struct {
	// ModelDir is the acoustic model directory (feat.params, mdef, means…).
	ModelDir string
	// Dict is the pronunciation dictionary.
	Dict string
	// LM is the n-gram language model used for free text.
	LM string
	// FrontEnd chooses how 8 kHz audio is decoded.
	FrontEnd FrontEnd
	// PoolSize bounds the idle decoders kept for reuse per front end and
	// endpointing setting (default 4). Each holds the model (about 40 MB).
	PoolSize int
	// MaxDecoders bounds the decoders alive at once (streams in progress);
	// Stream waits for one to free up. Zero means no bound.
	MaxDecoders int
	// GarbageWeight is the weight of the phone loop that catches speech
	// outside a grammar, against 1 for the phrases: higher rejects more.
	// Zero means DefaultGarbageWeight; negative disables the loop.
	GarbageWeight float64
	// MinConfidence rejects grammar results whose posterior probability is
	// below it (0 disables the check).
	MinConfidence float64
	// CMNShift is how far (Euclidean distance of the 13 cepstral means)
	// an utterance may move the decoder's live cepstral mean before the
	// utterance is decoded a second time with the mean it produced (see
	// the package documentation). Zero means DefaultCMNShift; negative
	// disables the second pass.
	CMNShift float64
	// Args are extra pocketsphinx arguments ("-beam", "1e-60", …).
	Args []string
}

// DefaultCMNShift is the cepstral-mean shift above which an utterance is
// decoded again with its own mean.
const DefaultCMNShift = 5

// telephoneCMN is the initial cepstral mean for 8 kHz audio upsampled to
// 16 kHz: the model's own -cmninit is for wideband audio, so the first
// utterance of a fresh decoder on telephone audio was decoded with a badly
// wrong mean (and often rejected). These are the means pocketsphinx's live
// CMN settles on over five Asterisk prompts (agent-pass,
// all-circuits-busy-now, check-number-dial-again, conf-getpin,
// auth-thankyou), rounded.
const telephoneCMN = "48.5,34.5,-26.5,40,-22,4.6,5.5,-18.6,23.5,-16.3,-0.4,1.5,-12.2"

type poolKey struct {
	narrow     bool // 8 kHz input on the 16 kHz front end
	rate       int  // decoder sample rate
	postSpeech int  // VAD hangover in 10 ms frames
}

// Recognizer is the pocketsphinx speech recognizer. It is safe for
// concurrent use; each stream gets its own decoder, taken from a pool.
type Recognizer struct {
	cfg  Config
	tmp  string // model directories with their own feat.params, dictionary
	dict string // dictionary with the garbage words

	mu     sync.Mutex
	idle   map[poolKey][]*decoder
	closed bool
	words  map[string]bool // dictionary words
	sem    chan struct{}
}

var _ stt.Recognizer = (*Recognizer)(nil)

// New checks the model files and prepares a recognizer. Decoders are
// loaded on demand by Stream (or ahead of time by Warm).
func New(cfg Config) (*Recognizer, error) {
	if cfg.ModelDir == "" {
		cfg.ModelDir = DefaultModelDir
	}
	if cfg.Dict == "" {
		cfg.Dict = DefaultDict
	}
	if cfg.LM == "" {
		cfg.LM = DefaultLM
	}
	if cfg.PoolSize <= 0 {
		cfg.PoolSize = 4
	}
	if cfg.GarbageWeight == 0 {
		cfg.GarbageWeight = DefaultGarbageWeight
	}
	if cfg.CMNShift == 0 {
		cfg.CMNShift = DefaultCMNShift
	}
	if cfg.FrontEnd != Upsample && cfg.FrontEnd != Native8k {
		return nil, fmt.Errorf("sphinx: unknown front end %d", cfg.FrontEnd)
	}
	for _, p := range []string{filepath.Join(cfg.ModelDir, "mdef"), cfg.Dict, cfg.LM} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrModel, err)
		}
	}
	r := &Recognizer{cfg: cfg, idle: map[poolKey][]*decoder{}}
	if cfg.MaxDecoders > 0 {
		r.sem = make(chan struct{}, cfg.MaxDecoders)
	}
	tmp, err := os.MkdirTemp("", "parole-sphinx-")
	if err != nil {
		return nil, fmt.Errorf("sphinx: %w", err)
	}
	r.tmp = tmp
	if err := r.prepare(); err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	return r, nil
}

// prepare writes the dictionary with the garbage phone words, reads its
// word list, and builds the 8 kHz model directory.
func (r *Recognizer) prepare() error {
	src, err := os.Open(r.cfg.Dict)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrModel, err)
	}
	defer src.Close()
	r.dict = filepath.Join(r.tmp, "dict")
	dst, err := os.Create(r.dict)
	if err != nil {
		return fmt.Errorf("sphinx: %w", err)
	}
	w := bufio.NewWriter(dst)
	r.words = make(map[string]bool, 140000)
	sc := bufio.NewScanner(src)
	for sc.Scan() {
		line := sc.Text()
		if f := strings.Fields(line); len(f) > 1 {
			r.words[baseWord(f[0])] = true
		}
		w.WriteString(line)
		w.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		dst.Close()
		return fmt.Errorf("%w: reading %s: %w", ErrModel, r.cfg.Dict, err)
	}
	for _, p := range phones {
		fmt.Fprintf(w, "%s%s %s\n", garbagePrefix, strings.ToLower(p), p)
	}
	if err := errors.Join(w.Flush(), dst.Close()); err != nil {
		return fmt.Errorf("sphinx: %w", err)
	}

	return nil
}

// modelDir returns the acoustic model directory for key. The model's
// feat.params overrides command-line arguments in pocketsphinx 5prealpha,
// so front-end settings that differ from it (the 8 kHz filter bank, the
// telephone CMN) need a directory of their own: symbolic links to the
// model's files and a rewritten feat.params.
func (r *Recognizer) modelDir(key poolKey) (string, error) {
	over := map[string]string{}
	name := "wide"
	if key.rate == 8000 {
		over["-upperf"] = "3800"
		name = "native8k"
	} else if key.narrow {
		over["-cmninit"] = telephoneCMN
		name = "narrow"
	}
	// front-end arguments of Config.Args go into feat.params too, where
	// pocketsphinx reads them
	for i := 0; i+1 < len(r.cfg.Args); i += 2 {
		if featParams[r.cfg.Args[i]] {
			over[r.cfg.Args[i]] = r.cfg.Args[i+1]
			name += strings.ReplaceAll(r.cfg.Args[i], "-", "_") + "_" + sanitize(r.cfg.Args[i+1])
		}
	}
	if len(over) == 0 {
		return r.cfg.ModelDir, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	dir := filepath.Join(r.tmp, name)
	if _, err := os.Stat(dir); err == nil {
		return dir, nil
	}
	tmp, err := os.MkdirTemp(r.tmp, name)
	if err != nil {
		return "", fmt.Errorf("sphinx: %w", err)
	}
	ents, err := os.ReadDir(r.cfg.ModelDir)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrModel, err)
	}
	for _, e := range ents {
		abs, _ := filepath.Abs(filepath.Join(r.cfg.ModelDir, e.Name()))
		if e.Name() != "feat.params" {
			if err := os.Symlink(abs, filepath.Join(tmp, e.Name())); err != nil {
				return "", fmt.Errorf("sphinx: %w", err)
			}
			continue
		}
		b, err := os.ReadFile(abs)
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrModel, err)
		}
		var out []string
		done := map[string]bool{}
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) == 2 && over[f[0]] != "" {
				l = f[0] + " " + over[f[0]]
				done[f[0]] = true
			}
			if l != "" {
				out = append(out, l)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(over)) {
			if !done[k] {
				out = append(out, k+" "+over[k])
			}
		}
		out = append(out, "")
		if err := os.WriteFile(filepath.Join(tmp, e.Name()), []byte(strings.Join(out, "\n")), 0o644); err != nil {
			return "", fmt.Errorf("sphinx: %w", err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		return "", fmt.Errorf("sphinx: %w", err)
	}
	return dir, nil
}

// featParams are the front-end arguments a model's feat.params may set:
// pocketsphinx 5prealpha reads feat.params after the command line, so
// these arguments of Config.Args are written into a feat.params of the
// recognizer's own.
var featParams = map[string]bool{
	"-lowerf": true, "-upperf": true, "-nfilt": true, "-transform": true, "-lifter": true,
	"-feat": true, "-agc": true, "-cmn": true, "-varnorm": true, "-cmninit": true,
	"-svspec": true, "-ncep": true, "-alpha": true, "-dither": true, "-wlen": true,
}

// sanitize keeps the letters and digits of an argument value, for a
// directory name.
func sanitize(v string) string {
	b := []byte(v)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.') {
			b[i] = '_'
		}
	}
	if len(b) > 40 {
		sum := sha256.Sum256([]byte(v))
		return hex.EncodeToString(sum[:6])
	}
	return string(b)
}

// HasWord reports whether the dictionary knows word (lower case).
func (r *Recognizer) HasWord(word string) bool { return r.words[word] }

// CheckGrammar reports the phrases of g that cannot be recognized because
// a word is missing from the dictionary (an *UnknownWordsError wrapping
// ErrUnknownWord), or a grammar with no usable phrase (ErrGrammar). Stream
// leaves such phrases out; flow checkers call this to report them.
func (r *Recognizer) CheckGrammar(g *stt.Grammar) error {
	_, unknown, err := compileGrammar(g, r.HasWord, r.cfg.GarbageWeight)
	if err != nil {
		return err
	}
	if unknown != nil {
		return unknown
	}
	return nil
}

func (r *Recognizer) args(key poolKey) ([]string, error) {
	hmm, err := r.modelDir(key)
	if err != nil {
		return nil, err
	}
	// -remove_noise no: pocketsphinx's spectral noise subtraction hurt on
	// clean band-limited speech (benchmarks/stt: the demo phrases of the
	// tune split went from 42.5% to 53.9% exact, real prompts unchanged).
	// Config.Args may turn it back on.
	a := []string{"-dict", r.dict, "-lm", r.cfg.LM, "-logfn", os.DevNull,
		"-vad_postspeech", strconv.Itoa(key.postSpeech), "-remove_noise", "no"}
	if key.rate == 8000 {
		a = append(a, "-samprate", "8000", "-nfft", "256")
	}
	a = append([]string{"-hmm", hmm}, a...)
	return append(a, r.cfg.Args...), nil
}

// acquire returns a decoder for key, from the pool or newly loaded.
func (r *Recognizer) acquire(ctx context.Context, key poolKey) (*decoder, error) {
	if r.sem != nil {
		select {
		case r.sem <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		r.unsem()
		return nil, fmt.Errorf("sphinx: recognizer: %w", stt.ErrClosed)
	}
	if l := r.idle[key]; len(l) > 0 {
		d := l[len(l)-1]
		r.idle[key] = l[:len(l)-1]
		r.mu.Unlock()
		return d, nil
	}
	r.mu.Unlock()
	args, err := r.args(key)
	if err != nil {
		r.unsem()
		return nil, err
	}
	d, err := newDecoder(args)
	if err != nil {
		r.unsem()
		return nil, err
	}
	return d, nil
}

func (r *Recognizer) unsem() {
	if r.sem != nil {
		<-r.sem
	}
}

// release returns d to the pool (or frees it when the pool is full).
func (r *Recognizer) release(key poolKey, d *decoder) {
	_ = d.endUtt()
	r.mu.Lock()
	if !r.closed && len(r.idle[key]) < r.cfg.PoolSize {
		r.idle[key] = append(r.idle[key], d)
		d = nil
	}
	r.mu.Unlock()
	if d != nil {
		d.free()
	}
	r.unsem()
}

// Warm loads n decoders for streams at sampleRate with the given end
// silence (0 for the default) into the pool, so that the first calls do not
// wait for the model to load.
func (r *Recognizer) Warm(sampleRate int, endSilence time.Duration, n int) error {
	key, err := r.key(sampleRate, endSilence)
	if err != nil {
		return err
	}
	args, err := r.args(key)
	if err != nil {
		return err
	}
	ds := make([]*decoder, 0, n)
	for range n {
		d, err := newDecoder(args)
		if err != nil {
			for _, d := range ds {
				d.free()
			}
			return err
		}
		ds = append(ds, d)
	}
	for _, d := range ds {
		if r.sem != nil {
			r.sem <- struct{}{}
		}
		r.release(key, d)
	}
	return nil
}

func (r *Recognizer) key(rate int, endSilence time.Duration) (poolKey, error) {
	if rate != 8000 && rate != 16000 && (rate < 8000 || rate > 48000) {
		return poolKey{}, fmt.Errorf("%w: sample rate %d Hz (sphinx takes 8 to 48 kHz)", stt.ErrUnsupported, rate)
	}
	if endSilence == 0 {
		endSilence = DefaultEndSilence
	}
	if endSilence < 0 || endSilence > time.Minute {
		return poolKey{}, fmt.Errorf("%w: end silence %v", stt.ErrUnsupported, endSilence)
	}
	k := poolKey{rate: 16000, postSpeech: max(1, int(endSilence/(10*time.Millisecond)))}
	if rate == 8000 && r.cfg.FrontEnd == Native8k {
		k.rate = 8000
	} else if rate <= 8000 {
		k.narrow = true
	}
	return k, nil
}

// Close frees the pooled decoders and the recognizer's temporary files.
// Streams still open keep their decoders until they end.
func (r *Recognizer) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	idle := r.idle
	r.idle = nil
	r.mu.Unlock()
	for _, l := range idle {
		for _, d := range l {
			d.free()
		}
	}
	return os.RemoveAll(r.tmp)
}
