package wav

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/parole-voice/parole/media"
)

// FuzzDecode feeds arbitrary bytes to the reader. It must never panic, must
// fail only with the package's sentinel errors, must never yield more
// samples than the input has bytes, and reading by frames, by odd-sized
// sample reads and with ReadAll must agree. The seed corpus in
// testdata/fuzz/FuzzDecode holds small real files (SoX and FFmpeg output in
// each encoding, streamed and extensible headers) and broken ones.
func FuzzDecode(f *testing.F) {
	f.Add(riff(fmtChunk(PCM, 1, 8000, 16), dataChunk(pcm16(1, -2, 3))))
	f.Add(riff(chunk{"fmt ", extBody(ULaw, 2, 8000, 8), -1}, chunk{"data", []byte{1, 2, 3, 4, 5}, 0xFFFFFFFF}))
	f.Add(riff(fmtChunk(PCM, 3, 8000, 24), chunk{"LIST", []byte{1}, -1}, dataChunk(make([]byte, 19))))
	f.Add([]byte("RIFF\xff\xff\xff\xffWAVEdata\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, in []byte) {
		whole, rate, err := ReadAll(bytes.NewReader(in))
		if err != nil && !isOurs(err) {
			t.Fatalf("ReadAll: unexpected error %v", err)
		}
		if len(whole) > len(in) {
			t.Fatalf("%d samples from %d bytes", len(whole), len(in))
		}
		r, err := NewReader(bytes.NewReader(in))
		if err != nil {
			if !isOurs(err) {
				t.Fatalf("NewReader: unexpected error %v", err)
			}
			return
		}
		if rate != r.SampleRate() || rate <= 0 || rate > MaxSampleRate {
			t.Fatalf("rate %d / %d", rate, r.SampleRate())
		}
		var frames []int16
		var fr media.Frame
		var ferr error
		for {
			ferr = r.ReadFrame(&fr)
			if ferr != nil {
				break
			}
			if len(fr.Samples) == 0 || len(fr.Samples) > r.FrameSamples() || fr.Rate != rate {
				t.Fatalf("frame of %d samples at %d Hz", len(fr.Samples), fr.Rate)
			}
			frames = append(frames, fr.Samples...)
		}
		if ferr != io.EOF && !isOurs(ferr) {
			t.Fatalf("ReadFrame: unexpected error %v", ferr)
		}
		if !bytes.Equal(bytesOf(frames), bytesOf(whole)) {
			t.Fatalf("frames gave %d samples, ReadAll %d", len(frames), len(whole))
		}
		r, _ = NewReader(bytes.NewReader(in))
		var odd []int16
		buf := make([]int16, 7)
		for {
			n, err := r.ReadSamples(buf)
			odd = append(odd, buf[:n]...)
			if err != nil {
				break
			}
		}
		if !bytes.Equal(bytesOf(odd), bytesOf(whole)) {
			t.Fatalf("7-sample reads gave %d samples, ReadAll %d", len(odd), len(whole))
		}
	})
}

func isOurs(err error) bool {
	for _, e := range []error{ErrNotWAV, ErrUnsupported, ErrMalformed, ErrTruncated} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
