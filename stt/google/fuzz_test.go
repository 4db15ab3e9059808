package google

import (
	"strings"
	"testing"
	"time"
	"unicode"

	"cloud.google.com/go/speech/apiv1/speechpb"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/parole-voice/parole/stt"
)

// FuzzNormalize: any text normalizes to lower-case words separated by
// single spaces, and normalizing twice changes nothing.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"Book an appointment.", "press 42", "0612345678", "'''", "Ça va ?", "a--b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalize(s)
		if n != strings.TrimSpace(n) || strings.Contains(n, "  ") || strings.ContainsFunc(n, func(r rune) bool {
			return unicode.ToLower(r) != r || (r >= '0' && r <= '9') || (unicode.IsSpace(r) && r != ' ')
		}) {
			t.Fatalf("Normalize(%q) = %q", s, n)
		}
		if Normalize(n) != n {
			t.Fatalf("Normalize not idempotent on %q: %q → %q", s, n, Normalize(n))
		}
	})
}

// FuzzResponse: any StreamingRecognizeResponse the service could send (the
// fuzzer mutates its wire bytes) is turned into results without a panic,
// and the replay history only ever loses bytes from its front.
func FuzzResponse(f *testing.F) {
	seed := &speechpb.StreamingRecognizeResponse{Results: []*speechpb.StreamingRecognitionResult{{
		Alternatives: []*speechpb.SpeechRecognitionAlternative{{Transcript: "yes please", Confidence: 0.9,
			Words: []*speechpb.WordInfo{{Word: "yes", StartTime: durationpb.New(0), EndTime: durationpb.New(time.Second)}}}, {Transcript: "yes"}},
		IsFinal: true, ResultEndTime: durationpb.New(1500 * time.Millisecond),
	}, {Alternatives: []*speechpb.SpeechRecognitionAlternative{{Transcript: "and"}}, ResultEndTime: durationpb.New(-time.Second)}},
		SpeechEventType: speechpb.StreamingRecognizeResponse_END_OF_SINGLE_UTTERANCE}
	b, _ := proto.Marshal(seed)
	f.Add(b, true)
	f.Add([]byte{0x12, 0x02, 0x10, 0x01}, false)
	f.Fuzz(func(t *testing.T, wire []byte, single bool) {
		var resp speechpb.StreamingRecognizeResponse
		if proto.Unmarshal(wire, &resp) != nil {
			return
		}
		s := &stream{
			r:   &Recognizer{cfg: Config{}},
			cfg: stt.Config{SampleRate: 8000, InterimResults: true, SingleUtterance: single},
			bps: 16000, align: 2,
			gram:   compileGrammar(&stt.Grammar{Rules: []stt.Rule{{Phrase: "yes please", Value: "yes"}}}),
			wake:   make(chan struct{}, 1),
			notify: make(chan struct{}, 1),
		}
		g := &gen{id: 1, base: 3200}
		s.cur = g
		s.histStart = 3200
		s.hist = make([]byte, 64000)
		for i := range s.hist {
			s.hist[i] = byte(i)
		}
		end := s.histStart + int64(len(s.hist))
		_ = s.handle(g, &resp)
		if s.histStart+int64(len(s.hist)) != end || s.histStart < 3200 || s.histStart%2 != 0 {
			t.Fatalf("history %d+%d, want to end at %d", s.histStart, len(s.hist), end)
		}
		if len(s.hist) > 0 && s.hist[0] != byte(s.histStart-3200) {
			t.Fatal("history lost bytes from its middle")
		}
		for _, r := range s.out {
			if r.Final && s.gram != nil && !r.Rejected && r.Value != "yes" {
				t.Fatalf("final %+v", r)
			}
		}
	})
}
