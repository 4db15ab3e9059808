package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/g711"
)

func testSignal(n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16((i*7919)%65536 - 32768)
	}
	return s
}

// coded returns what reading back a file of format f holding s must give.
func coded(f Format, s []int16) []int16 {
	switch f {
	case ULaw:
		return g711.DecodeUlaw(nil, g711.EncodeUlaw(nil, s))
	case ALaw:
		return g711.DecodeAlaw(nil, g711.EncodeAlaw(nil, s))
	}
	return s
}

var writeFormats = []Format{PCM, ULaw, ALaw}

// TestWriterModes writes the same audio in the three modes (seekable file,
// known length, streamed) and checks the layout and that it reads back.
func TestWriterModes(t *testing.T) {
	le := binary.LittleEndian
	for _, f := range writeFormats {
		for _, n := range []int{0, 1, 1001, 5000} { // odd lengths need a pad byte in G.711
			s := testSignal(n)
			path := filepath.Join(t.TempDir(), "out.wav")
			file, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			file.WriteString("prefix") // the writer starts where the file offset is
			w, err := NewWriter(file, f, 8000)
			if err != nil {
				t.Fatal(err)
			}
			for len(s) > 0 { // odd chunk sizes
				k := min(len(s), 333)
				if err := w.WriteSamples(s[:k]); err != nil {
					t.Fatal(err)
				}
				s = s[k:]
			}
			s = testSignal(n)
			if w.Written() != int64(n) {
				t.Fatalf("Written %d", w.Written())
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); !errors.Is(err, ErrClosed) {
				t.Errorf("second Close: %v", err)
			}
			if err := w.WriteSamples(s); !errors.Is(err, ErrClosed) {
				t.Errorf("write after Close: %v", err)
			}
			file.Close()
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			seeked := raw[6:]

			// Layout: sizes, pad byte, fact chunk.
			hdr := 44
			bytesPer := 2
			if f != PCM {
				hdr, bytesPer = 58, 1
			}
			data := n * bytesPer
			if len(seeked) != hdr+data+data%2 {
				t.Fatalf("%v n=%d: file of %d bytes", f, n, len(seeked))
			}
			if got := le.Uint32(seeked[4:]); int(got) != len(seeked)-8 {
				t.Errorf("%v n=%d: RIFF size %d", f, n, got)
			}
			if got := le.Uint32(seeked[hdr-4:]); int(got) != data {
				t.Errorf("%v n=%d: data size %d", f, n, got)
			}
			if f != PCM {
				if string(seeked[38:42]) != "fact" || le.Uint32(seeked[46:]) != uint32(n) {
					t.Errorf("%v n=%d: fact chunk % x", f, n, seeked[38:50])
				}
			}

			// Known length: same bytes without seeking.
			var sized bytes.Buffer
			if err := Encode(&sized, f, 8000, s); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(sized.Bytes(), seeked) {
				t.Errorf("%v n=%d: sized output differs from the seek-patched file", f, n)
			}

			// Streamed: streaming sizes, same audio.
			var streamed bytes.Buffer
			w, err = NewWriter(&streamed, f, 8000)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.WriteFrame(&media.Frame{Samples: s, Rate: 8000}); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			st := streamed.Bytes()
			if le.Uint32(st[4:]) != 0xFFFFFFFF || le.Uint32(st[hdr-4:]) != 0xFFFFFFFF {
				t.Errorf("%v n=%d: streamed sizes % x", f, n, st[:hdr])
			}
			if !bytes.Equal(st[hdr:], seeked[hdr:]) {
				t.Errorf("%v n=%d: streamed audio differs", f, n)
			}

			want := coded(f, s)
			wantSamples := int64(n)
			if n == 0 {
				wantSamples = -1 // a data size of 0 reads as "unknown, to the end"
			}
			for name, b := range map[string][]byte{"seeked": seeked, "sized": sized.Bytes()} {
				r, err := NewReader(bytes.NewReader(b))
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if h := r.Header(); h.Format != f || h.SampleRate != 8000 || h.Channels != 1 || h.Samples() != wantSamples {
					t.Errorf("%s: header %+v", name, h)
				}
				got, _ := readAll(t, b)
				equal16(t, got, want)
			}
			got, _ := readAll(t, st)
			if f == PCM || n%2 == 0 {
				equal16(t, got, want)
			} else {
				// Streamed G.711 of odd length: the reader cannot tell the
				// pad byte from audio.
				equal16(t, got[:n], want)
			}
		}
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n < len(p) {
		return 0, errors.New("disk full")
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriterErrors(t *testing.T) {
	var buf bytes.Buffer
	if _, err := NewWriter(&buf, Format(3), 8000); !errors.Is(err, ErrUnsupported) {
		t.Errorf("float: %v", err)
	}
	if _, err := NewWriter(&buf, PCM, 0); !errors.Is(err, ErrUnsupported) {
		t.Errorf("rate 0: %v", err)
	}
	if _, err := NewWriterSize(&buf, PCM, 8000, -1); !errors.Is(err, ErrLength) {
		t.Errorf("negative size: %v", err)
	}
	if _, err := NewWriterSize(&buf, ULaw, 8000, 1<<32); !errors.Is(err, ErrLength) {
		t.Errorf("4 GiB: %v", err)
	}
	w, _ := NewWriterSize(&buf, PCM, 8000, 10)
	if err := w.WriteSamples(make([]int16, 11)); !errors.Is(err, ErrLength) {
		t.Errorf("too many: %v", err)
	}
	w.WriteSamples(make([]int16, 9))
	if err := w.Close(); !errors.Is(err, ErrLength) {
		t.Errorf("too few: %v", err)
	}
	w, _ = NewWriter(&buf, ALaw, 8000)
	if err := w.WriteFrame(media.NewFrame(16000)); !errors.Is(err, ErrRate) {
		t.Errorf("16 kHz frame: %v", err)
	}
	if _, err := NewWriter(&failWriter{10}, PCM, 8000); err == nil {
		t.Error("header write error not reported")
	}
	w, _ = NewWriter(&failWriter{100}, PCM, 8000)
	if err := w.WriteSamples(make([]int16, 100)); err == nil {
		t.Error("data write error not reported")
	}
	if err := w.Close(); err == nil {
		t.Error("Close after a write error reports nothing")
	}
}

func TestWriteFrameZeroAllocs(t *testing.T) {
	for _, f := range writeFormats {
		w, err := NewWriter(discard{}, f, 8000)
		if err != nil {
			t.Fatal(err)
		}
		fr := media.NewFrame(8000)
		copy(fr.Samples, testSignal(160))
		if n := testing.AllocsPerRun(100, func() {
			if err := w.WriteFrame(fr); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("%v: %v allocations per frame", f, n)
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
