package sphinx

/*
#cgo pkg-config: pocketsphinx sphinxbase
#include <stdlib.h>
#include <string.h>
#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#include <sphinxbase/feat.h>
#include <sphinxbase/cmn.h>

static ps_decoder_t *parole_ps_new(int argc, char **argv) {
	cmd_ln_t *cfg = cmd_ln_parse_r(NULL, ps_args(), argc, argv, FALSE);
	if (cfg == NULL) {
		return NULL;
	}
	ps_decoder_t *ps = ps_init(cfg);
	cmd_ln_free_r(cfg);
	return ps;
}

// parole_ps_words walks the best segmentation of the utterance, writing up to
// max words: their frame spans and log posteriors into the arrays and their
// text, NUL-separated, into buf. It returns the number of words.
static int parole_ps_words(ps_decoder_t *ps, int max, int *sf, int *ef, int *prob, char *buf, int buflen) {
	int n = 0, used = 0;
	ps_seg_t *seg;
	for (seg = ps_seg_iter(ps); seg != NULL && n < max; seg = ps_seg_next(seg)) {
		const char *w = ps_seg_word(seg);
		int l = strlen(w);
		int a, lm, lb;
		if (used + l + 1 > buflen) {
			ps_seg_free(seg);
			break;
		}
		ps_seg_frames(seg, &sf[n], &ef[n]);
		prob[n] = ps_seg_prob(seg, &a, &lm, &lb);
		memcpy(buf + used, w, l + 1);
		used += l + 1;
		n++;
	}
	if (seg != NULL && n >= max) {
		ps_seg_free(seg);
	}
	return n;
}

// parole_ps_nbest writes up to max distinct n-best hypotheses of the
// utterance just ended, NUL-separated, into buf and their path scores into
// scores, best first. It returns the number written (0 without a lattice).
static int parole_ps_nbest(ps_decoder_t *ps, int max, int *scores, char *buf, int buflen) {
	int n = 0, used = 0;
	ps_nbest_t *nb = ps_nbest(ps);
	for (; nb != NULL && n < max; nb = ps_nbest_next(nb)) {
		int32 score;
		const char *h = ps_nbest_hyp(nb, &score);
		int l;
		if (h == NULL) {
			continue;
		}
		l = strlen(h);
		if (used + l + 1 > buflen) {
			break;
		}
		memcpy(buf + used, h, l + 1);
		used += l + 1;
		scores[n++] = score;
	}
	if (nb != NULL) {
		ps_nbest_free(nb);
	}
	return n;
}

// parole_ps_cmn reads (set == 0) or restores (set != 0) the state of the
// decoder's live cepstral mean normalization: the mean, the running sum and
// its frame count, n values each. It returns n, or 0 when the decoder has
// no live CMN of that length.
static int parole_ps_cmn(ps_decoder_t *ps, float *mean, float *sum, int *nframe, int n, int set) {
	feat_t *f = ps_get_feat(ps);
	cmn_t *c;
	int i;
	if (f == NULL || f->cmn_struct == NULL || f->cmn_struct->veclen != n) {
		return 0;
	}
	c = f->cmn_struct;
	for (i = 0; i < n; i++) {
		if (set) {
			c->cmn_mean[i] = mean[i];
			c->sum[i] = sum[i];
		} else {
			mean[i] = c->cmn_mean[i];
			sum[i] = c->sum[i];
		}
	}
	if (set) {
		c->nframe = *nframe;
	} else {
		*nframe = c->nframe;
	}
	return n;
}

static void parole_ps_quiet(void) {
	err_set_logfp(NULL);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"unsafe"
)

func init() {
	// pocketsphinx logs every model parameter to stderr; parole's media
	// code does not log.
	C.parole_ps_quiet()
}

// decoder is one pocketsphinx decoder. It is not safe for concurrent use.
type decoder struct {
	ps       *C.ps_decoder_t
	searches []string // loaded grammar/kws searches, oldest first
	inUtt    bool

	// utt is the audio of the utterance in progress (at the decoder's
	// rate, from a little before its speech), kept for a second pass
	utt []int16

	// scratch for word segmentation
	sf, ef, prob []C.int
	wordBuf      []byte
}

const (
	maxWords    = 256
	wordBufSize = 8192
)

// newDecoder loads the acoustic model, dictionary and language model named
// by args (pocketsphinx command-line arguments, "-hmm" "dir" …).
func newDecoder(args []string) (*decoder, error) {
	argv := make([]*C.char, len(args)+1)
	for i, a := range args {
		argv[i] = C.CString(a)
	}
	defer func() {
		for _, p := range argv[:len(args)] {
			C.free(unsafe.Pointer(p))
		}
	}()
	// argv lives in Go memory; cmd_ln_parse_r copies the strings it keeps.
	cargv := (**C.char)(C.malloc(C.size_t(len(argv)) * C.size_t(unsafe.Sizeof(argv[0]))))
	defer C.free(unsafe.Pointer(cargv))
	copy(unsafe.Slice(cargv, len(argv)), argv)
	ps := C.parole_ps_new(C.int(len(args)), cargv)
	if ps == nil {
		return nil, fmt.Errorf("%w: pocketsphinx could not load the model with %q", ErrModel, args)
	}
	d := &decoder{
		ps:      ps,
		sf:      make([]C.int, maxWords),
		ef:      make([]C.int, maxWords),
		prob:    make([]C.int, maxWords),
		wordBuf: make([]byte, wordBufSize),
	}
	return d, nil
}

func (d *decoder) free() {
	if d.ps != nil {
		C.ps_free(d.ps)
		d.ps = nil
	}
}

// hasWord reports whether word is in the decoder's dictionary.
func (d *decoder) hasWord(word string) bool {
	cw := C.CString(word)
	defer C.free(unsafe.Pointer(cw))
	p := C.ps_lookup_word(d.ps, cw)
	if p == nil {
		return false
	}
	C.free(unsafe.Pointer(p))
	return true
}

// addWord adds word with its phones ("AA B") to the dictionary; update
// rebuilds the current search.
func (d *decoder) addWord(word, phones string, update bool) error {
	cw, cp := C.CString(word), C.CString(phones)
	defer C.free(unsafe.Pointer(cw))
	defer C.free(unsafe.Pointer(cp))
	u := C.int(0)
	if update {
		u = 1
	}
	if C.ps_add_word(d.ps, cw, cp, u) < 0 {
		return fmt.Errorf("sphinx: cannot add word %q /%s/", word, phones)
	}
	return nil
}

const maxSearches = 16

// useSearch switches to the named search, creating it with create when
// it is not loaded. At most maxSearches grammars stay loaded per decoder.
func (d *decoder) useSearch(name string, create func(cname *C.char) C.int) error {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	loaded := false
	for _, s := range d.searches {
		if s == name {
			loaded = true
			break
		}
	}
	if !loaded {
		if len(d.searches) >= maxSearches {
			old := C.CString(d.searches[0])
			C.ps_unset_search(d.ps, old)
			C.free(unsafe.Pointer(old))
			d.searches = d.searches[1:]
		}
		if create(cname) < 0 {
			return fmt.Errorf("%w: pocketsphinx rejected search %s", ErrGrammar, name)
		}
		d.searches = append(d.searches, name)
	}
	if C.ps_set_search(d.ps, cname) < 0 {
		return fmt.Errorf("sphinx: cannot select search %s", name)
	}
	return nil
}

func (d *decoder) setJSGF(name, jsgf string) error {
	return d.useSearch(name, func(cname *C.char) C.int {
		cs := C.CString(jsgf)
		defer C.free(unsafe.Pointer(cs))
		return C.ps_set_jsgf_string(d.ps, cname, cs)
	})
}

// setLM selects the decoder's default language-model search.
func (d *decoder) setLM() error {
	cname := C.CString("_default")
	defer C.free(unsafe.Pointer(cname))
	if C.ps_set_search(d.ps, cname) < 0 {
		return errors.New("sphinx: the decoder has no language model search")
	}
	return nil
}

// startStream resets the frame count (word times restart from zero) and
// the noise estimate for a new audio stream.
func (d *decoder) startStream() error {
	if C.ps_start_stream(d.ps) < 0 {
		return errors.New("sphinx: ps_start_stream failed")
	}
	return nil
}

func (d *decoder) startUtt() error {
	if C.ps_start_utt(d.ps) < 0 {
		return errors.New("sphinx: ps_start_utt failed")
	}
	d.inUtt = true
	return nil
}

func (d *decoder) endUtt() error {
	if !d.inUtt {
		return nil
	}
	d.inUtt = false
	if C.ps_end_utt(d.ps) < 0 {
		return errors.New("sphinx: ps_end_utt failed")
	}
	return nil
}

// process feeds samples at the decoder's rate.
func (d *decoder) process(samples []int16) error {
	if len(samples) == 0 {
		return nil
	}
	p := (*C.int16)(unsafe.Pointer(&samples[0]))
	r := C.ps_process_raw(d.ps, p, C.size_t(len(samples)), 0, 0)
	runtime.KeepAlive(samples)
	if r < 0 {
		return errors.New("sphinx: ps_process_raw failed")
	}
	return nil
}

// cmnLen is the length of the en-us model's cepstral vector.
const cmnLen = 13

// cmnState is the state of pocketsphinx's live cepstral mean
// normalization: the mean subtracted from every frame, and the running sum
// and frame count the mean is updated from at the end of each utterance
// (sphinxbase's cmn_live_update).
type cmnState struct {
	mean, sum [cmnLen]float32
	n         C.int
}

// frames is the number of frames the running sum holds.
func (c *cmnState) frames() int { return int(c.n) }

// cmn reads the decoder's live CMN state; ok is false when it has none.
func (d *decoder) cmn() (st cmnState, ok bool) {
	ok = C.parole_ps_cmn(d.ps, (*C.float)(unsafe.Pointer(&st.mean[0])), (*C.float)(unsafe.Pointer(&st.sum[0])), &st.n, cmnLen, 0) == cmnLen
	return st, ok
}

// setCMN restores a state read by cmn.
func (d *decoder) setCMN(st *cmnState) bool {
	return C.parole_ps_cmn(d.ps, (*C.float)(unsafe.Pointer(&st.mean[0])), (*C.float)(unsafe.Pointer(&st.sum[0])), &st.n, cmnLen, 1) == cmnLen
}

func (d *decoder) inSpeech() bool { return C.ps_get_in_speech(d.ps) != 0 }

// hypBytes returns the current hypothesis as a view of pocketsphinx's
// buffer, valid until the next call into the decoder. It does not allocate.
func (d *decoder) hypBytes() []byte {
	var score C.int32
	h := C.ps_get_hyp(d.ps, &score)
	if h == nil {
		return nil
	}
	n := C.strlen(h)
	return unsafe.Slice((*byte)(unsafe.Pointer(h)), int(n))
}

// prob returns the posterior probability of the hypothesis (0..1), from the
// lattice; 0 when pocketsphinx has none.
func (d *decoder) posterior() float64 {
	p := C.ps_get_prob(d.ps)
	lm := C.ps_get_logmath(d.ps)
	if lm == nil {
		return 0
	}
	v := float64(C.logmath_exp(lm, C.int(p)))
	if math.IsNaN(v) || v < 0 {
		return 0
	}
	return min(v, 1)
}

// hypothesis is one n-best entry: its words as pocketsphinx wrote them
// (fillers and garbage included) and its path score in natural log units.
type hypothesis struct {
	text  string
	score float64
}

// nbest returns up to max hypotheses of the utterance just ended, best first,
// as pocketsphinx's A* search over the lattice finds them (duplicates
// included: paths that differ only in fillers or timing).
func (d *decoder) nbest(max int) []hypothesis {
	if max <= 0 {
		return nil
	}
	max = min(max, maxWords)
	n := int(C.parole_ps_nbest(d.ps, C.int(max), &d.sf[0],
		(*C.char)(unsafe.Pointer(&d.wordBuf[0])), C.int(len(d.wordBuf))))
	lm := C.ps_get_logmath(d.ps)
	out := make([]hypothesis, 0, n)
	off := 0
	for i := 0; i < n; i++ {
		end := off
		for end < len(d.wordBuf) && d.wordBuf[end] != 0 {
			end++
		}
		score := float64(d.sf[i])
		if lm != nil {
			score = float64(C.logmath_log_to_ln(lm, C.int(d.sf[i])))
		}
		out = append(out, hypothesis{text: string(d.wordBuf[off:end]), score: score})
		off = end + 1
	}
	return out
}

type segWord struct {
	text   string
	sf, ef int
	prob   float64
}

// words returns the segmentation of the best hypothesis, fillers included.
func (d *decoder) words() []segWord {
	n := int(C.parole_ps_words(d.ps, C.int(maxWords),
		&d.sf[0], &d.ef[0], &d.prob[0],
		(*C.char)(unsafe.Pointer(&d.wordBuf[0])), C.int(len(d.wordBuf))))
	lm := C.ps_get_logmath(d.ps)
	out := make([]segWord, 0, n)
	off := 0
	for i := 0; i < n; i++ {
		end := off
		for end < len(d.wordBuf) && d.wordBuf[end] != 0 {
			end++
		}
		p := 0.0
		if lm != nil {
			p = min(float64(C.logmath_exp(lm, C.int(d.prob[i]))), 1)
		}
		out = append(out, segWord{text: string(d.wordBuf[off:end]), sf: int(d.sf[i]), ef: int(d.ef[i]), prob: p})
		off = end + 1
	}
	return out
}
