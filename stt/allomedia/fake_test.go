package allomedia

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parole-voice/parole/media/g711"
)

// tokenServer is a fake OpenID Connect token endpoint issuing short-lived
// tokens to one client (client credentials in the form body, as uh!live's
// SDK sends them).
type tokenServer struct {
	srv      *httptest.Server
	lifetime time.Duration
	mu       sync.Mutex
	issued   map[string]time.Time // token → expiry
	n        int
}

func newTokenServer(t *testing.T, lifetime time.Duration) *tokenServer {
	ts := &tokenServer{lifetime: lifetime, issued: map[string]time.Time{}}
	ts.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/realms/uhlive/protocol/openid-connect/token" {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("client_id") != "bot" ||
			r.PostForm.Get("client_secret") != "s3cret" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"unauthorized_client"}`)
			return
		}
		ts.mu.Lock()
		ts.n++
		tok := fmt.Sprintf("tok-%d", ts.n)
		ts.issued[tok] = time.Now().Add(ts.lifetime)
		ts.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":%d}`, tok, int(ts.lifetime.Seconds()))
	}))
	t.Cleanup(ts.srv.Close)
	return ts
}

func (ts *tokenServer) url() string {
	return ts.srv.URL + "/realms/uhlive/protocol/openid-connect/token"
}

func (ts *tokenServer) valid(tok string) bool {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	exp, ok := ts.issued[tok]
	return ok && time.Now().Before(exp)
}

// script says how the fake answers a recognition.
type script struct {
	cause      string          // completion cause (Success)
	transcript string          // asr.transcript
	nlu        json.RawMessage // nlu.value; nil: no nlu
	nluType    string
	alts       []string
	// refuse answers this command with METHOD-FAILED.
	refuse string
	// dropAfter closes the TCP connection abruptly after that many audio
	// frames (0: never).
	dropAfter int
	// badEvent sends this text frame instead of RECOGNITION-COMPLETE.
	badEvent string
	// silent never detects speech.
	silent bool
	// noComplete detects speech but never completes.
	noComplete bool
}

// session is what the fake saw of one websocket session.
type session struct {
	commands []Command
	audio    []int16 // decoded audio, in order
	frames   []int   // bytes per audio frame
	arrivals []time.Time
	params   map[string]any
	codec    string
	done     chan struct{} // closed when the server side of the session ended
}

// fakeUhlive is an in-process uh!live voicebot server: it checks the
// bearer token, the order and headers of the commands, decodes the audio,
// endpoints it on energy and answers RECOGNITION-COMPLETE with the script.
type fakeUhlive struct {
	t      *testing.T
	srv    *httptest.Server
	tokens *tokenServer
	mu     sync.Mutex
	sc     script
	sess   []*session
	errs   []string
	nchan  int
	// unavailable answers that many handshakes with 503.
	unavailable int
	handshakes  int
	// sink, when set, gets the arrival time of each audio frame during a
	// recognition (benchmarks; one session at a time).
	sink     chan time.Time
	sinkBuf  [4096]byte
	pushBack []byte
}

func newFake(t *testing.T, tokens *tokenServer, sc script) *fakeUhlive {
	f := &fakeUhlive{t: t, tokens: tokens, sc: sc}
	up := websocket.Upgrader{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/bots" {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		f.mu.Lock()
		f.handshakes++
		busy := f.unavailable > 0
		if busy {
			f.unavailable--
		}
		f.mu.Unlock()
		if busy {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		if tokens != nil {
			auth := r.Header.Get("Authorization")
			scheme, tok, _ := strings.Cut(auth, " ")
			if !strings.EqualFold(scheme, "bearer") || !tokens.valid(tok) {
				http.Error(w, "invalid token", http.StatusUnauthorized)
				return
			}
		}
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		f.serve(c)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeUhlive) url() string { return "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/bots" }

func (f *fakeUhlive) violation(format string, a ...any) {
	f.mu.Lock()
	f.errs = append(f.errs, fmt.Sprintf(format, a...))
	f.mu.Unlock()
}

func (f *fakeUhlive) violations() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.errs...)
}

// sessions returns the sessions seen, once the server has finished each.
func (f *fakeUhlive) sessions() []*session {
	f.mu.Lock()
	ss := append([]*session(nil), f.sess...)
	f.mu.Unlock()
	for _, s := range ss {
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			f.t.Fatal("fake session still running 5 s after the test")
		}
	}
	return ss
}

func event(name string, req int, ch string, cause string, body any) []byte {
	m := map[string]any{"event": name, "request_id": req, "channel_id": ch, "headers": map[string]any{},
		"completion_cause": nil, "completion_reason": nil, "body": ""}
	if cause != "" {
		m["completion_cause"] = cause
	}
	if body != nil {
		m["body"] = body
	}
	b, _ := json.Marshal(m)
	return b
}

func ms(v any) int {
	switch x := v.(type) {
	case float64:
		return int(x)
	}
	return -1
}

// serve runs one session.
func (f *fakeUhlive) serve(c *websocket.Conn) {
	defer c.Close()
	s := &session{done: make(chan struct{})}
	defer close(s.done)
	f.mu.Lock()
	f.sess = append(f.sess, s)
	sc := f.sc
	f.nchan++
	chanID := fmt.Sprintf("fakechan%d", f.nchan)
	f.mu.Unlock()
	var (
		state                    = "none" // none, idle, recognizing
		lastReq, recogReq        int
		defined                  = map[string]bool{}
		speaking, heard          bool
		silenceMS, speechStartMS int
		audioMS, timersStartMS   int
		complete, noInput        = 800, 0
		timers                   bool
		firstAudio               time.Time
		frames                   int
	)
	send := func(b []byte) {
		c.SetWriteDeadline(time.Now().Add(2 * time.Second))
		c.WriteMessage(websocket.TextMessage, b)
	}
	for {
		if f.sink != nil && state == "recognizing" {
			// Benchmark mode: audio frames are read into a fixed buffer
			// and only their arrival is noted, so that the fake allocates
			// nothing per frame.
			mt, rd, err := c.NextReader()
			if err != nil {
				return
			}
			if mt == websocket.BinaryMessage {
				for {
					if _, err := rd.Read(f.sinkBuf[:]); err != nil {
						break
					}
				}
				f.sink <- time.Now()
				continue
			}
			data, err := io.ReadAll(rd)
			if err != nil {
				return
			}
			f.pushBack = data
		}
		var mt int
		var data []byte
		if f.pushBack != nil {
			mt, data, f.pushBack = websocket.TextMessage, f.pushBack, nil
		} else {
			var err error
			mt, data, err = c.ReadMessage()
			if err != nil {
				return
			}
		}
		if mt == websocket.BinaryMessage {
			now := time.Now()
			if firstAudio.IsZero() {
				firstAudio = now
			}
			if state == "none" {
				f.violation("audio before OPEN")
				continue
			}
			var pcm []int16
			switch s.codec {
			case "linear":
				if len(data)%2 != 0 {
					f.violation("odd linear frame of %d bytes", len(data))
				}
				for i := 0; i+1 < len(data); i += 2 {
					pcm = append(pcm, int16(binary.LittleEndian.Uint16(data[i:])))
				}
			case "g711u":
				pcm = g711.DecodeUlaw(nil, data)
			case "g711a":
				pcm = g711.DecodeAlaw(nil, data)
			}
			f.mu.Lock()
			s.audio = append(s.audio, pcm...)
			s.frames = append(s.frames, len(data))
			s.arrivals = append(s.arrivals, now)
			f.mu.Unlock()
			frames++
			if sc.dropAfter > 0 && frames >= sc.dropAfter {
				c.UnderlyingConn().Close()
				return
			}
			// Energy endpointer on 20 ms blocks of 8 kHz audio.
			for off := 0; off+160 <= len(pcm); off += 160 {
				var e float64
				for _, v := range pcm[off : off+160] {
					e += float64(v) * float64(v)
				}
				loud := math.Sqrt(e/160) > 300
				audioMS += 20
				if state != "recognizing" || sc.silent {
					continue
				}
				switch {
				case loud && !speaking:
					speaking, silenceMS = true, 0
					if !heard {
						heard, speechStartMS = true, audioMS-20
						send(event(EvStartOfInput, recogReq, chanID, "", nil))
					}
				case loud:
					silenceMS = 0
				case speaking:
					silenceMS += 20
					if silenceMS >= complete && !sc.noComplete {
						speaking = false
						state = "idle"
						if sc.badEvent != "" {
							send([]byte(sc.badEvent))
							continue
						}
						wall := func(ms int) int64 { return firstAudio.Add(time.Duration(ms) * time.Millisecond).UnixMilli() }
						body := map[string]any{
							"asr": map[string]any{"transcript": sc.transcript, "confidence": 0.87,
								"start": wall(speechStartMS), "end": wall(audioMS - silenceMS)},
							"nlu": nil, "grammar_uri": "",
						}
						if sc.nlu != nil {
							body["nlu"] = map[string]any{"type": sc.nluType, "value": sc.nlu, "confidence": 0.93}
						}
						if len(sc.alts) > 0 {
							var alts []any
							for _, a := range sc.alts {
								alts = append(alts, map[string]any{"asr": map[string]any{"transcript": a, "confidence": 0.4, "start": 0, "end": 0}, "nlu": nil, "grammar_uri": ""})
							}
							body["alternatives"] = alts
						}
						if u := firstURI(s); u != "" {
							body["grammar_uri"] = u
						}
						cause := sc.cause
						if cause == "" {
							cause = CauseSuccess
						}
						send(event(EvRecognitionComplete, recogReq, chanID, cause, body))
						heard = false
					}
				}
				if state == "recognizing" && timers && !heard && noInput > 0 && audioMS-timersStartMS >= noInput {
					state = "idle"
					send(event(EvRecognitionComplete, recogReq, chanID, CauseNoInputTimeout, nil))
				}
			}
			continue
		}
		var cmd Command
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cmd); err != nil {
			f.violation("bad command frame %q: %v", data, err)
			send(event(EvMethodNotValid, 0, chanID, "", nil))
			continue
		}
		f.mu.Lock()
		s.commands = append(s.commands, cmd)
		f.mu.Unlock()
		if cmd.RequestID <= lastReq {
			f.violation("request_id %d after %d", cmd.RequestID, lastReq)
		}
		lastReq = cmd.RequestID
		if state != "none" && cmd.ChannelID != chanID {
			f.violation("%s with channel_id %q, want %q", cmd.Command, cmd.ChannelID, chanID)
		}
		if cmd.Command == sc.refuse {
			send(event(EvMethodFailed, cmd.RequestID, chanID, CauseError, nil))
			continue
		}
		notAllowed := func() {
			f.violation("%s in state %s", cmd.Command, state)
			send(event(EvMethodNotAllowed, cmd.RequestID, chanID, "", nil))
		}
		switch cmd.Command {
		case CmdOpen:
			if state != "none" {
				notAllowed()
				continue
			}
			codec, _ := cmd.Headers["audio_codec"].(string)
			if codec != "linear" && codec != "g711a" && codec != "g711u" {
				f.violation("OPEN audio_codec %v", cmd.Headers["audio_codec"])
				send(event(EvInvalidParamValue, cmd.RequestID, "", "", nil))
				continue
			}
			if _, ok := cmd.Headers["custom_id"].(string); !ok {
				f.violation("OPEN without custom_id")
			}
			s.codec, state = codec, "idle"
			send(event(EvOpened, cmd.RequestID, chanID, "", nil))
		case CmdSetParams:
			if state != "idle" {
				notAllowed()
				continue
			}
			if l, ok := cmd.Headers["speech_language"].(string); !ok || l == "" || strings.Contains(l, "-") {
				f.violation("SET-PARAMS speech_language %v", cmd.Headers["speech_language"])
			}
			for k, v := range cmd.Headers {
				switch k {
				case "speech_language", "confidence_threshold":
				case "no_input_timeout", "speech_complete_timeout", "speech_incomplete_timeout",
					"speech_nomatch_timeout", "recognition_timeout":
					if ms(v) <= 0 {
						f.violation("SET-PARAMS %s = %v", k, v)
					}
				default:
					f.violation("SET-PARAMS unknown parameter %s", k)
				}
			}
			s.params = cmd.Headers
			if v := ms(cmd.Headers["speech_complete_timeout"]); v > 0 {
				complete = v
			}
			if v := ms(cmd.Headers["no_input_timeout"]); v > 0 {
				noInput = v
			}
			send(event(EvParamsSet, cmd.RequestID, chanID, "", nil))
		case CmdDefineGrammar:
			if state != "idle" {
				notAllowed()
				continue
			}
			id, _ := cmd.Headers["content_id"].(string)
			if id == "" || cmd.Headers["content_type"] != "text/uri-list" || !strings.HasPrefix(cmd.Body, "builtin:speech/") {
				f.violation("DEFINE-GRAMMAR %v %q", cmd.Headers, cmd.Body)
			}
			defined[id] = true
			send(event(EvGrammarDefined, cmd.RequestID, chanID, "", nil))
		case CmdRecognize:
			if state != "idle" {
				notAllowed()
				continue
			}
			if cmd.Headers["content_type"] != "text/uri-list" {
				f.violation("RECOGNIZE content_type %v", cmd.Headers["content_type"])
			}
			if m := cmd.Headers["recognition_mode"]; m != "normal" && m != "hotword" {
				f.violation("RECOGNIZE recognition_mode %v", m)
			}
			st, ok := cmd.Headers["start_input_timers"].(bool)
			if !ok {
				f.violation("RECOGNIZE start_input_timers %v", cmd.Headers["start_input_timers"])
			}
			for _, u := range strings.Split(cmd.Body, "\n") {
				switch {
				case strings.HasPrefix(u, "builtin:speech/"):
				case strings.HasPrefix(u, "session:") && defined[strings.TrimPrefix(u, "session:")]:
				default:
					f.violation("RECOGNIZE grammar %q", u)
				}
			}
			state, recogReq, timers, timersStartMS, heard, speaking = "recognizing", cmd.RequestID, st, audioMS, false, false
			send(event(EvRecognitionInProgress, cmd.RequestID, chanID, "", nil))
		case CmdStartInputTimers:
			if state != "recognizing" {
				notAllowed()
				continue
			}
			timers, timersStartMS = true, audioMS
			send(event(EvInputTimersStarted, cmd.RequestID, chanID, "", nil))
		case CmdStop:
			if state != "recognizing" {
				notAllowed()
				continue
			}
			state = "idle"
			send(event(EvStopped, cmd.RequestID, chanID, "", nil))
		case CmdClose:
			if state == "none" {
				notAllowed()
				continue
			}
			send(event(EvClosed, cmd.RequestID, chanID, "", nil))
			return
		default:
			f.violation("unknown command %q", cmd.Command)
			send(event(EvMethodNotValid, cmd.RequestID, chanID, "", nil))
		}
	}
}

func firstURI(s *session) string {
	for _, c := range s.commands {
		if c.Command == CmdRecognize {
			u, _, _ := strings.Cut(c.Body, "\n")
			return u
		}
	}
	return ""
}

// names lists the command names a session received.
func names(cmds []Command) []string {
	var n []string
	for _, c := range cmds {
		n = append(n, c.Command)
	}
	return n
}

// audioOf returns the audio a session received and its frame sizes.
func (f *fakeUhlive) audioOf(s *session) ([]int16, []int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int16(nil), s.audio...), append([]int(nil), s.frames...)
}

func (f *fakeUhlive) commandsOf(s *session) []Command {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Command(nil), s.commands...)
}
