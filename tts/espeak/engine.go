package espeak

/*
#cgo pkg-config: espeak-ng
#include <stdlib.h>
#include <espeak-ng/espeak_ng.h>
#include <espeak-ng/speak_lib.h>

int parole_init(int buflength);
int parole_synth(const char *text, int ssml);
int parole_voice_count(void);
void parole_voice(int i, const char **name, const char **ident, const char **langs);
*/
import "C"

import (
	"fmt"
	"strings"
	"sync"
	"unsafe"
)

// bufferMillis is the audio the library produces per callback: the size of
// the chunks the engine delivers.
const bufferMillis = 100

// voiceInfo is one installed espeak-ng voice.
type voiceInfo struct {
	name, ident string
	langs       []string
}

// event is a word event from the library.
type event struct {
	pos, length int // 1-based character position and length in characters
	ms          int // audio position
}

// sink receives what one synthesis produces; it returns false to abort.
type sink interface {
	audio(pcm []int16, words []event) bool
}

var (
	initOnce   sync.Once
	initErr    error
	engineRate int
	voices     []voiceInfo

	// engine is held by whoever calls into the library; current is the
	// sink of the synthesis running (nil outside one).
	engine  = make(chan struct{}, 1)
	current sink
	wordBuf []event
)

// initEngine loads the library's data once per process.
func initEngine() error {
	initOnce.Do(func() {
		engine <- struct{}{}
		defer func() { <-engine }()
		r := int(C.parole_init(C.int(bufferMillis)))
		if r <= 0 {
			initErr = fmt.Errorf("espeak: initialize: status %#x", -r)
			return
		}
		engineRate = r
		n := int(C.parole_voice_count())
		for i := range n {
			var name, ident, langs *C.char
			C.parole_voice(C.int(i), &name, &ident, &langs)
			v := voiceInfo{name: C.GoString(name), ident: C.GoString(ident)}
			p := unsafe.Pointer(langs)
			for *(*byte)(p) != 0 { // priority byte, then the language
				l := C.GoString((*C.char)(unsafe.Add(p, 1)))
				v.langs = append(v.langs, strings.ToLower(l))
				p = unsafe.Add(p, len(l)+2)
			}
			voices = append(voices, v)
		}
	})
	return initErr
}

//export goSynthCallback
func goSynthCallback(wav *C.short, n C.int, ev *C.espeak_EVENT, count C.int) C.int {
	s := current
	if s == nil {
		return 1
	}
	wordBuf = wordBuf[:0]
	if count > 0 {
		for _, e := range unsafe.Slice(ev, int(count)) {
			if e._type == C.espeakEVENT_WORD {
				wordBuf = append(wordBuf, event{pos: int(e.text_position), length: int(e.length), ms: int(e.audio_position)})
			}
		}
	}
	var pcm []int16
	if wav != nil && n > 0 {
		pcm = unsafe.Slice((*int16)(unsafe.Pointer(wav)), int(n))
	}
	if !s.audio(pcm, wordBuf) {
		return 1
	}
	return 0
}

// synthLocked runs one synthesis; the caller holds engine.
func synthLocked(text string, ssml bool, voice string, wpm int, s sink) error {
	cv := C.CString(voice)
	defer C.free(unsafe.Pointer(cv))
	if st := C.espeak_ng_SetVoiceByName(cv); st != C.ENS_OK {
		return fmt.Errorf("espeak: set voice %q: status %#x", voice, uint(st))
	}
	if st := C.espeak_ng_SetParameter(C.espeakRATE, C.int(wpm), 0); st != C.ENS_OK {
		return fmt.Errorf("espeak: set rate %d: status %#x", wpm, uint(st))
	}
	ct := C.CString(text)
	defer C.free(unsafe.Pointer(ct))
	flag := C.int(0)
	if ssml {
		flag = 1
	}
	current = s
	st := C.parole_synth(ct, flag)
	current = nil
	if st != C.ENS_OK {
		return fmt.Errorf("espeak: synthesize: status %#x", uint(st))
	}
	return nil
}
