package dialog

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrInvalidReply is wrapped by the errors of [Reply.Validate].
var ErrInvalidReply = errors.New("dialog: invalid reply")

// Reply is the bot's answer to one event: messages, said or shown in order,
// then at most one action.
//
// With no action the turn simply ends: a text channel waits for the user's
// next message, a voice channel listens with default settings.
type Reply struct {
	// Messages are said (voice channels) or shown (text channels) in order.
	Messages []Message `json:"messages,omitempty"`
	// Gather waits for the user's next input, telling the channel what to
	// expect so it can steer its recognizer and time out.
	Gather *Gather `json:"gather,omitempty"`
	// Record records what the user says next (a voicemail, a message).
	Record *Record `json:"record,omitempty"`
	// Transfer hands the conversation to someone else.
	Transfer *Transfer `json:"transfer,omitempty"`
	// Hangup ends the conversation after the messages.
	Hangup bool `json:"hangup,omitempty"`
}

// Message is one thing the bot says or shows. A voice channel speaks SSML
// when set, Text otherwise, and plays Audio; a text channel shows Text,
// Choices, Card and Attachment. Set at least one of them.
type Message struct {
	// Text is the plain text of the message.
	Text string `json:"text,omitempty"`
	// SSML is the spoken form for voice channels: a whole <speak> document
	// or an SSML fragment.
	SSML string `json:"ssml,omitempty"`
	// Audio is a recording to play on voice channels instead of speaking.
	Audio *Audio `json:"audio,omitempty"`
	// Choices are options offered to the user: buttons or quick replies on
	// text channels, read out and listened for on voice channels.
	Choices []Choice `json:"choices,omitempty"`
	// Card is a rich card for the channels that show them.
	Card *Card `json:"card,omitempty"`
	// Attachment is a file sent to the user.
	Attachment *Attachment `json:"attachment,omitempty"`
}

// Audio is a recording a voice channel plays.
type Audio struct {
	// URL of the recording: http(s) URL or file path (WAV or MP3).
	URL string `json:"url"`
	// Text is what the recording says: spoken instead when it cannot be
	// played, shown on text channels and kept in transcripts.
	Text string `json:"text,omitempty"`
}

// Choice is one option offered to the user. Picking it sends an
// [EventChoice] with Payload, or opens URL.
type Choice struct {
	// Title is the label shown or read out.
	Title string `json:"title"`
	// Payload comes back as Event.Choice when the user picks the choice;
	// empty means Title.
	Payload string `json:"payload,omitempty"`
	// URL makes the choice a link instead of a reply.
	URL string `json:"url,omitempty"`
	// ImageURL is an icon for the channels that show one.
	ImageURL string `json:"image_url,omitempty"`
}

// Value returns the payload the choice sends: Payload, or Title when empty.
func (c Choice) Value() string {
	if c.Payload != "" {
		return c.Payload
	}
	return c.Title
}

// Card is a rich card: a title, a subtitle, an image and buttons.
type Card struct {
	Title    string   `json:"title"`
	Subtitle string   `json:"subtitle,omitempty"`
	ImageURL string   `json:"image_url,omitempty"`
	Buttons  []Choice `json:"buttons,omitempty"`
}

// Gather asks the channel for the user's next input and says what to expect.
// Voice channels pass Hints and Grammar to their recognizer and collect DTMF;
// every channel turns silence past NoInputTimeout into [EventNoInput].
type Gather struct {
	// Hints are words and phrases the user is likely to say, for the
	// recognizer's phrase boosting.
	Hints []string `json:"hints,omitempty"`
	// Grammar, when set, lists every phrase the step accepts; recognizers
	// that support grammars restrict themselves to it and report anything
	// else as no-match.
	Grammar *Grammar `json:"grammar,omitempty"`
	// DTMF, when set, accepts keypad input.
	DTMF *DTMFOptions `json:"dtmf,omitempty"`
	// Speech is false when only DTMF is accepted.
	Speech bool `json:"speech"`
	// NoInputTimeout is how long to wait for the user to start; zero means
	// the channel's default.
	NoInputTimeout time.Duration `json:"no_input_timeout,omitempty"`
	// EndSilence is how long a pause ends an utterance; zero means the
	// channel's default.
	EndSilence time.Duration `json:"end_silence,omitempty"`
	// MaxDuration bounds one utterance; zero means the channel's default.
	MaxDuration time.Duration `json:"max_duration,omitempty"`
	// BargeIn lets the user interrupt the messages before the gather.
	BargeIn bool `json:"barge_in"`
	// Language is the BCP 47 tag of the expected speech, e.g. "fr-FR";
	// empty means the conversation's locale.
	Language string `json:"language,omitempty"`
}

// Grammar is the set of phrases a step accepts, each mapped to the value it
// stands for.
type Grammar struct {
	// Rules maps an accepted phrase to what it means (an intent name or a
	// slot value).
	Rules []GrammarRule `json:"rules"`
}

// GrammarRule is one accepted phrase and its meaning.
type GrammarRule struct {
	Phrase string `json:"phrase"`
	Value  string `json:"value"`
}

// DTMFOptions says which keypad input a gather accepts.
type DTMFOptions struct {
	// Options maps a single key to the choice payload it stands for
	// ("press 1 for sales").
	Options map[string]string `json:"options,omitempty"`
	// MinDigits and MaxDigits bound a digit string (an account number);
	// zero MaxDigits with Options set means one key.
	MinDigits int `json:"min_digits,omitempty"`
	MaxDigits int `json:"max_digits,omitempty"`
	// Terminator ends a digit string early, usually "#".
	Terminator string `json:"terminator,omitempty"`
	// InterDigitTimeout ends a digit string after this pause.
	InterDigitTimeout time.Duration `json:"inter_digit_timeout,omitempty"`
}

// Record asks a voice channel to record the user.
type Record struct {
	// MaxDuration bounds the recording; zero means the channel's default.
	MaxDuration time.Duration `json:"max_duration,omitempty"`
	// EndSilence ends the recording after this much silence.
	EndSilence time.Duration `json:"end_silence,omitempty"`
	// Beep plays a tone before recording starts.
	Beep bool `json:"beep,omitempty"`
}

// Transfer hands the conversation over. Voice channels call Target (a SIP
// URI such as "sip:agent@pbx.example.com" or a phone number in E.164 form
// such as "+33123456789"); text channels hand over to their live-agent
// feature or show Target.
type Transfer struct {
	Target string `json:"target"`
	// Bridge asks the channel to call Target itself and relay the audio,
	// instead of asking the caller's side to transfer (SIP REFER).
	Bridge bool `json:"bridge,omitempty"`
}

// Say returns a reply with one text message per argument.
func Say(texts ...string) Reply {
	r := Reply{Messages: make([]Message, len(texts))}
	for i, t := range texts {
		r.Messages[i] = Message{Text: t}
	}
	return r
}

// Text returns the text of all messages, one per line: what a transcript or
// a plain-text channel shows.
func (r Reply) Text() string {
	var b strings.Builder
	for _, m := range r.Messages {
		t := m.Text
		if t == "" && m.Audio != nil {
			t = m.Audio.Text
		}
		if t == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(t)
	}
	return b.String()
}

// Validate reports whether r is well formed: every message has content,
// every choice a title, and at most one action is set. The error wraps
// [ErrInvalidReply].
func (r Reply) Validate() error {
	for i, m := range r.Messages {
		if m.Text == "" && m.SSML == "" && m.Audio == nil && len(m.Choices) == 0 && m.Card == nil && m.Attachment == nil {
			return fmt.Errorf("%w: message %d is empty", ErrInvalidReply, i)
		}
		if m.Audio != nil && m.Audio.URL == "" {
			return fmt.Errorf("%w: message %d: audio without a URL", ErrInvalidReply, i)
		}
		for j, c := range m.Choices {
			if c.Title == "" {
				return fmt.Errorf("%w: message %d: choice %d has no title", ErrInvalidReply, i, j)
			}
		}
	}
	actions := 0
	if r.Gather != nil {
		actions++
		if err := r.Gather.validate(); err != nil {
			return err
		}
	}
	if r.Record != nil {
		actions++
	}
	if r.Transfer != nil {
		actions++
		if r.Transfer.Target == "" {
			return fmt.Errorf("%w: transfer without a target", ErrInvalidReply)
		}
	}
	if r.Hangup {
		actions++
	}
	if actions > 1 {
		return fmt.Errorf("%w: %d actions set, at most one of gather, record, transfer, hangup", ErrInvalidReply, actions)
	}
	return nil
}

func (g *Gather) validate() error {
	if !g.Speech && g.DTMF == nil {
		return fmt.Errorf("%w: gather accepts neither speech nor DTMF", ErrInvalidReply)
	}
	if d := g.DTMF; d != nil {
		for k := range d.Options {
			if len(k) != 1 || !isDTMF(rune(k[0])) {
				return fmt.Errorf("%w: gather DTMF option %q is not one key", ErrInvalidReply, k)
			}
		}
		if d.MinDigits < 0 || d.MaxDigits < 0 || d.MaxDigits > 0 && d.MinDigits > d.MaxDigits {
			return fmt.Errorf("%w: gather DTMF digits %d..%d", ErrInvalidReply, d.MinDigits, d.MaxDigits)
		}
		if len(d.Terminator) > 1 || len(d.Terminator) == 1 && !isDTMF(rune(d.Terminator[0])) {
			return fmt.Errorf("%w: gather DTMF terminator %q is not one key", ErrInvalidReply, d.Terminator)
		}
	}
	if g.NoInputTimeout < 0 || g.EndSilence < 0 || g.MaxDuration < 0 {
		return fmt.Errorf("%w: negative gather timeout", ErrInvalidReply)
	}
	return nil
}
