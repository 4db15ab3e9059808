package voxygen

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parole-voice/parole/internal/testutil"
)

const goodToken = "sub-token-1"

// fakeRequest is what the fake saw of one request.
type fakeRequest struct {
	form    map[string]string
	arrived time.Time
	// firstByte is when the first audio byte was written.
	firstByte time.Time
}

// fakeVoxygen is an in-process Voxygen TTS server: it checks the bearer
// token and the form parameters, synthesizes the text with espeak-ng and
// answers MP3 (encoded by ffmpeg's libmp3lame) or a streaming WAV at the
// frequency asked.
type fakeVoxygen struct {
	t   testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	reqs     []*fakeRequest
	audio    map[string][]byte // cache: coding|freq|lang|text → answer
	inFlight int
	maxIn    int
	errs     []string

	// Behaviour, set before use.
	headerDelay time.Duration                    // before the answer's headers
	pieces      int                              // body written in that many pieces …
	pieceDelay  time.Duration                    // … with this pause between them
	unavailable int                              // answer that many requests 503
	status      int                              // answer every request with this status
	body        func(i int, audio []byte) []byte // replaces answer i's body
	cutAfter    int                              // close the connection after that many body bytes (0: never)
}

func newFakeVoxygen(t testing.TB) *fakeVoxygen {
	f := &fakeVoxygen{t: t, audio: map[string][]byte{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeVoxygen) url() string { return f.srv.URL + "/tts" }

func (f *fakeVoxygen) violation(format string, a ...any) {
	f.mu.Lock()
	f.errs = append(f.errs, fmt.Sprintf(format, a...))
	f.mu.Unlock()
}

func (f *fakeVoxygen) requests() []*fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*fakeRequest(nil), f.reqs...)
}

func (f *fakeVoxygen) serve(w http.ResponseWriter, r *http.Request) {
	rec := &fakeRequest{arrived: time.Now(), form: map[string]string{}}
	if r.Method != http.MethodPost || r.URL.Path != "/tts" {
		f.violation("%s %s", r.Method, r.URL.Path)
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+goodToken {
		http.Error(w, `{"error":"invalid token"}`, http.StatusUnauthorized)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		f.violation("content type %q", ct)
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	for k := range r.PostForm {
		rec.form[k] = r.PostForm.Get(k)
	}
	f.mu.Lock()
	i := len(f.reqs)
	f.reqs = append(f.reqs, rec)
	busy := f.unavailable > 0
	if busy {
		f.unavailable--
	}
	status := f.status
	f.inFlight++
	f.maxIn = max(f.maxIn, f.inFlight)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight--
		f.mu.Unlock()
	}()
	if busy {
		w.Header().Set("Retry-After", "0")
		http.Error(w, "overloaded", http.StatusServiceUnavailable)
		return
	}
	if status != 0 {
		http.Error(w, "refused", status)
		return
	}
	text, voice, lang := rec.form["text"], rec.form["voice"], rec.form["language"]
	if text == "" || voice == "" || lang == "" {
		http.Error(w, "text, voice and language are required", http.StatusBadRequest)
		return
	}
	coding := rec.form["coding"]
	freq, err := strconv.Atoi(rec.form["frequency"])
	if err != nil || freq < 8000 || freq > 48000 {
		http.Error(w, "bad frequency", http.StatusBadRequest)
		return
	}
	if coding == "lin" && rec.form["header"] != "wav-stream-header" {
		f.violation("lin without header=wav-stream-header: %q", rec.form["header"])
	}
	audio, ctype := f.synthesize(coding, freq, lang, text)
	if audio == nil {
		http.Error(w, "synthesis failed", http.StatusInternalServerError)
		return
	}
	if f.body != nil {
		audio = f.body(i, audio)
	}
	time.Sleep(f.headerDelay)
	w.Header().Set("Content-Type", ctype)
	if f.cutAfter > 0 {
		w.Header().Set("Content-Length", strconv.Itoa(len(audio)))
		w.WriteHeader(http.StatusOK)
		w.Write(audio[:min(f.cutAfter, len(audio))])
		w.(http.Flusher).Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	w.WriteHeader(http.StatusOK)
	pieces := max(1, f.pieces)
	step := (len(audio) + pieces - 1) / pieces
	for off := 0; off < len(audio); off += step {
		if off > 0 {
			time.Sleep(f.pieceDelay)
		}
		if off == 0 {
			f.mu.Lock()
			rec.firstByte = time.Now()
			f.mu.Unlock()
		}
		if _, err := w.Write(audio[off:min(off+step, len(audio))]); err != nil {
			return
		}
		w.(http.Flusher).Flush()
	}
}

// synthesize speaks text with espeak-ng and encodes it; nil on failure.
// It runs in the server's goroutines, so it reports failures as a 500
// rather than failing the test from there.
func (f *fakeVoxygen) synthesize(coding string, freq int, lang, text string) ([]byte, string) {
	key := fmt.Sprintf("%s|%d|%s|%s", coding, freq, lang, text)
	f.mu.Lock()
	a, ok := f.audio[key]
	f.mu.Unlock()
	ctype := map[string]string{"mp3": "audio/mpeg", "lin": "audio/wav"}[coding]
	if ok {
		return a, ctype
	}
	dir, err := os.MkdirTemp("", "fakevoxygen")
	if err != nil {
		return nil, ""
	}
	defer os.RemoveAll(dir)
	primary, _, _ := strings.Cut(lang, "-")
	run := func(name string, args ...string) []byte {
		out, err := exec.Command(name, args...).Output()
		if err != nil {
			f.violation("%s %v: %v", name, args, err)
			return nil
		}
		return out
	}
	run("espeak-ng", "-v", primary, "-w", dir+"/s.wav", text)
	switch coding {
	case "mp3":
		run("ffmpeg", "-hide_banner", "-loglevel", "error", "-i", dir+"/s.wav", "-ar", strconv.Itoa(freq),
			"-ac", "1", "-c:a", "libmp3lame", "-b:a", "48k", dir+"/s.mp3")
		a, _ = os.ReadFile(dir + "/s.mp3")
	case "lin":
		if raw := run("ffmpeg", "-hide_banner", "-loglevel", "error", "-i", dir+"/s.wav", "-ar", strconv.Itoa(freq),
			"-ac", "1", "-f", "s16le", "-"); raw != nil {
			a = streamingWAV(freq, raw)
		}
	}
	if a == nil {
		return nil, ""
	}
	f.mu.Lock()
	f.audio[key] = a
	f.mu.Unlock()
	return a, ctype
}

// warm synthesizes the answers a test will ask for, so that the fake
// answers at once.
func (f *fakeVoxygen) warm(coding string, freq int, lang string, texts ...string) {
	f.t.Helper()
	testutil.RequireTool(f.t, "espeak-ng", "espeak-ng")
	testutil.RequireTool(f.t, "ffmpeg", "ffmpeg")
	for _, t := range texts {
		if a, _ := f.synthesize(coding, freq, lang, t); a == nil {
			f.t.Fatalf("fake could not synthesize %q: %v", t, f.errs)
		}
	}
}

// streamingWAV wraps 16-bit PCM in a WAV header with unknown sizes
// (0xFFFFFFFF), as a server streaming its synthesis writes it.
func streamingWAV(rate int, pcm []byte) []byte {
	var b bytes.Buffer
	w := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	w(uint32(0xFFFFFFFF))
	b.WriteString("WAVEfmt ")
	w(uint32(16))
	w(uint16(1))
	w(uint16(1))
	w(uint32(rate))
	w(uint32(rate * 2))
	w(uint16(2))
	w(uint16(16))
	b.WriteString("data")
	w(uint32(0xFFFFFFFF))
	b.Write(pcm)
	return b.Bytes()
}
