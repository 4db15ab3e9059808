// Package testutil holds helpers shared by parole's tests.
package testutil

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"testing"
	"time"
)

// InCI reports whether the tests run under CI (the CI environment variable is
// set), where every external tool the test set-up installs must be present.
func InCI() bool { return os.Getenv("CI") != "" }

// RequireTool returns the path of the named program. When it is missing the
// test fails under CI (where `make test` installs it) and is skipped
// elsewhere, with the Debian package to install in the message.
func RequireTool(tb testing.TB, name, debianPackage string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missing(tb, name+" not found: apt-get install "+debianPackage)
	}
	return p
}

// RequireFile returns path when it exists. When it is missing the test fails
// under CI and is skipped elsewhere, with the Debian package that ships it in
// the message.
func RequireFile(tb testing.TB, path, debianPackage string) string {
	tb.Helper()
	if _, err := os.Stat(path); err != nil {
		missing(tb, path+" not found: apt-get install "+debianPackage)
	}
	return path
}

func missing(tb testing.TB, msg string) {
	tb.Helper()
	if InCI() {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
}

// Run runs an external program (a reference tool: sox, ffmpeg, tshark, …)
// and returns its standard output. It fails the test with the program's
// standard error when it fails or runs for more than two minutes.
func Run(tb testing.TB, name string, args ...string) []byte {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("%s %v: %v\n%s", name, args, err, stderr.Bytes())
	}
	return out
}

// ReadS16 reads a raw file of signed 16-bit little-endian samples, the
// format reference tools are asked to write.
func ReadS16(tb testing.TB, path string) []int16 {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	s := make([]int16, len(b)/2)
	for i := range s {
		s[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return s
}

// WriteS16 writes samples as a raw signed 16-bit little-endian file, for
// reference tools to read.
func WriteS16(tb testing.TB, path string, s []int16) {
	tb.Helper()
	b := make([]byte, 2*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		tb.Fatal(err)
	}
}

// ReportFrames reports a benchmark's cost per 20 ms audio frame (ns/frame)
// and how many times faster than real time that is (x-realtime), given how
// many frames it processed in b's elapsed time.
func ReportFrames(b *testing.B, frames int) {
	b.Helper()
	if frames <= 0 {
		return
	}
	perFrame := float64(b.Elapsed().Nanoseconds()) / float64(frames)
	b.ReportMetric(perFrame, "ns/frame")
	b.ReportMetric(float64(20*time.Millisecond)/perFrame, "x-realtime")
}

// SpokenWAV writes text spoken by espeak-ng (with extra espeak-ng arguments
// such as "-v", "en-gb") as 8 kHz mono 16-bit WAV, resampled by sox as
// telephone audio, and returns its path in a test temporary folder.
func SpokenWAV(tb testing.TB, text string, espeakArgs ...string) string {
	tb.Helper()
	espeak := RequireTool(tb, "espeak-ng", "espeak-ng")
	sox := RequireTool(tb, "sox", "sox")
	dir := tb.TempDir()
	raw, out := dir+"/speech.wav", dir+"/speech-8k.wav"
	Run(tb, espeak, append(append(espeakArgs, "-w", raw), text)...)
	Run(tb, sox, raw, "-r", "8000", "-c", "1", "-b", "16", out)
	return out
}
