// C side of the cgo binding: the synthesis callback trampoline and small
// helpers that keep C pointers out of Go.

#include <stdlib.h>
#include <string.h>
#include <espeak-ng/espeak_ng.h>
#include <espeak-ng/speak_lib.h>
#include "_cgo_export.h"

// parole_cb forwards every buffer of audio and its events to Go.
static int parole_cb(short *wav, int n, espeak_EVENT *ev) {
	int count = 0;
	while (ev != NULL && ev[count].type != espeakEVENT_LIST_TERMINATED) {
		count++;
	}
	return goSynthCallback(wav, n, ev, count);
}

// parole_init initializes the library for synchronous retrieval of audio
// through parole_cb; it returns the sample rate or a negative status.
int parole_init(int buflength) {
	espeak_ng_InitializePath(NULL);
	espeak_ng_STATUS st = espeak_ng_Initialize(NULL);
	if (st != ENS_OK) {
		return -(int)st;
	}
	st = espeak_ng_InitializeOutput(ENOUTPUT_MODE_SYNCHRONOUS, buflength, NULL);
	if (st != ENS_OK) {
		return -(int)st;
	}
	espeak_SetSynthCallback(parole_cb);
	return espeak_ng_GetSampleRate();
}

// parole_synth synthesizes text (UTF-8, NUL terminated) with flags.
int parole_synth(const char *text, int ssml) {
	unsigned int flags = espeakCHARS_UTF8;
	if (ssml) {
		flags |= espeakSSML;
	}
	return (int)espeak_ng_Synthesize(text, strlen(text) + 1, 0, POS_CHARACTER, 0, flags, NULL, NULL);
}

// parole_voice_count returns the number of installed voices.
int parole_voice_count(void) {
	const espeak_VOICE **v = espeak_ListVoices(NULL);
	int n = 0;
	while (v[n] != NULL) {
		n++;
	}
	return n;
}

// parole_voice returns the name, identifier and language list of voice i.
void parole_voice(int i, const char **name, const char **ident, const char **langs) {
	const espeak_VOICE **v = espeak_ListVoices(NULL);
	*name = v[i]->name;
	*ident = v[i]->identifier;
	*langs = v[i]->languages;
}
