package fallback

import (
	"context"
	"io"
	"os"
	"testing"
	"time"

	"github.com/parole-voice/parole/internal/testutil"
	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/wav"
	"github.com/parole-voice/parole/stt"
	"github.com/parole-voice/parole/stt/sphinx"
)

// A cloud recognizer failing in the middle of the caller's words hands the
// utterance to the embedded pocketsphinx, which hears it whole from the
// replay and recognizes it.
func TestFallbackToSphinx(t *testing.T) {
	testutil.RequireFile(t, sphinx.DefaultModelDir+"/mdef", "pocketsphinx-en-us")
	sec, err := sphinx.New(sphinx.Config{PoolSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(testutil.SpokenWAV(t, "book an appointment", "-v", "en-us"))
	if err != nil {
		t.Fatal(err)
	}
	speech, _, err := wav.ReadAll(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	samples := append(make([]int16, 8000/2), speech...)
	samples = append(samples, make([]int16, 8000)...)
	// The primary dies a third into the speech.
	p := &fakeRec{name: "cloud", failAfter: (8000/2 + len(speech)/3) / 160}
	r, err := New(p, sec, Config{})
	if err != nil {
		t.Fatal(err)
	}
	g := &stt.Grammar{Rules: []stt.Rule{
		{Phrase: "opening hours", Value: "hours"}, {Phrase: "book an appointment", Value: "book"},
		{Phrase: "operator", Value: "operator"}, {Phrase: "yes", Value: "yes"}, {Phrase: "no", Value: "no"},
	}}
	st, err := r.Stream(context.Background(), stt.Config{Language: "en-US", SampleRate: 8000, Grammar: g, EndSilence: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var results []stt.Result
	done := make(chan error, 1)
	go func() {
		for {
			res, err := st.Recv()
			if err != nil {
				if err == io.EOF {
					err = nil
				}
				done <- err
				return
			}
			results = append(results, res)
		}
	}()
	fr := media.NewFrame(8000)
	for off := 0; off+160 <= len(samples); off += 160 {
		copy(fr.Samples, samples[off:])
		if err := st.Write(fr); err != nil {
			t.Fatalf("write at %d: %v", off, err)
		}
	}
	if err := st.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var final *stt.Result
	for i := range results {
		if results[i].Final {
			final = &results[i]
			break
		}
	}
	if final == nil || final.Value != "book" || final.Rejected {
		t.Fatalf("results %+v, want pocketsphinx's final \"book an appointment\"", results)
	}
	if r.Breaker().Open() {
		t.Error("one failure opened the breaker (threshold 3)")
	}
}
