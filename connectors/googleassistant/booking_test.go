package googleassistant

import (
	"context"
	"strings"
	"testing"

	"github.com/parole-voice/parole/dialog/store"
)

// booked checks the demo appointment is in the store with its transcript
// on channel.
func booked(t *testing.T, g *rig, id, channel string, turns int) {
	t.Helper()
	conv, _, err := g.st.Load(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if conv.Slots["date"] != "2026-11-26" || conv.Slots["phone"] != "0612345678" || conv.Slots["confirmed"] != "yes" || !conv.Ended {
		t.Fatalf("conversation %s: slots %v ended %v", id, conv.Slots, conv.Ended)
	}
	tr, err := g.r.Transcript(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr) != 2*turns {
		t.Fatalf("transcript of %d entries, want %d", len(tr), 2*turns)
	}
	for _, e := range tr {
		if e.Channel != channel {
			t.Fatalf("transcript entry on channel %q", e.Channel)
		}
	}
	if tr[len(tr)-1].Kind != store.KindReply || !strings.Contains(tr[len(tr)-1].Reply.Text(), "Goodbye") {
		t.Fatalf("last entry %+v", tr[len(tr)-1])
	}
}

// say is one user turn and what the answer must hold.
type say struct {
	query string // "" for the opening request
	want  string
	chips []string
}

// The demo appointment booked on a phone with a screen over the
// conversation webhook: chips tapped, words typed, the final response.
func TestBookingConversation(t *testing.T) {
	g := newRig(t, Config{})
	token := ""
	turns := []say{
		{"", "Welcome to the Parole demo line.", []string{"Opening hours", "Book an appointment"}},
		{"Book an appointment", "Which day would you like to come?", nil},
		{"tomorrow", "What phone number can we reach you on?", nil},
		{"06 12 34 56 78", "An appointment on Thursday, November 26, and we will call you on 0612345678. Is that right?", []string{"Yes", "No"}},
		{"Yes", "Your appointment is booked. See you on Thursday, November 26!", []string{"Yes", "No"}},
		{"no thanks", "Thank you for calling. Goodbye!", nil},
	}
	for i, turn := range turns {
		body := fixture(t, "conversation_main.json", nil)
		if turn.query != "" {
			body = fixture(t, "conversation_text.json", func(m map[string]any) {
				obj(m, "conversation")["conversationToken"] = token
				if token == "" {
					delete(obj(m, "conversation"), "conversationToken")
				}
				in := m["inputs"].([]any)[0].(map[string]any)
				in["rawInputs"] = []any{map[string]any{"inputType": "KEYBOARD", "query": turn.query}}
				in["arguments"] = []any{map[string]any{"name": "text", "rawText": turn.query, "textValue": turn.query}}
			})
		}
		var resp AppResponse
		decode(t, g.conversation(t, body), &resp)
		var rich RichResponse
		if i == len(turns)-1 {
			if resp.ExpectUserResponse || resp.FinalResponse == nil {
				t.Fatalf("turn %d: not final: %+v", i, resp)
			}
			rich = resp.FinalResponse.RichResponse
		} else {
			if !resp.ExpectUserResponse || len(resp.ExpectedInputs) != 1 {
				t.Fatalf("turn %d: %+v", i, resp)
			}
			rich = resp.ExpectedInputs[0].InputPrompt.RichInitialPrompt
		}
		var said []string
		for _, it := range rich.Items {
			said = append(said, it.SimpleResponse.TextToSpeech+it.SimpleResponse.DisplayText)
		}
		if !strings.Contains(strings.Join(said, " "), turn.want) {
			t.Fatalf("turn %d (%q): said %q, want %q", i, turn.query, said, turn.want)
		}
		var chips []string
		for _, s := range rich.Suggestions {
			chips = append(chips, s.Title)
		}
		if strings.Join(chips, "|") != strings.Join(turn.chips, "|") {
			t.Fatalf("turn %d: chips %q, want %q", i, chips, turn.chips)
		}
		token = resp.ConversationToken
	}
	booked(t, g, "googleassistant:1521651608253", ChannelAssistant, len(turns))
}

// The demo appointment booked on a smart speaker over Actions Builder:
// every utterance is a NO_MATCH the Builder project sends to the webhook,
// prompts are the flow's spoken ones, phrase hints go out as expected
// speech.
func TestBookingBuilder(t *testing.T) {
	g := newRig(t, Config{})
	turns := []say{
		{"", "<speak>Say opening hours, or press 1. Say appointment, or press 2. Say operator, or press 0.</speak>", nil},
		{"I'd like an appointment", "Which day would you like to come?", nil},
		{"tomorrow", "What phone number can we reach you on?", nil},
		{"zero six one two three four five six seven eight", "Is that right?", nil},
		{"yes", "Your appointment is booked.", nil},
		{"no", "Thank you for calling. Goodbye!", nil},
	}
	userParams := map[string]any{}
	for i, turn := range turns {
		body := fixture(t, "builder_main.json", func(m map[string]any) {
			obj(m, "device")["capabilities"] = []any{"SPEECH"}
			obj(m, "user")["params"] = userParams
			if turn.query != "" {
				m["intent"] = map[string]any{"name": "actions.intent.NO_MATCH_1", "params": map[string]any{}, "query": turn.query}
			}
		})
		var resp HandlerResponse
		decode(t, g.builder(t, body), &resp)
		if resp.User != nil {
			userParams = resp.User.Params
		}
		p := resp.Prompt
		if p == nil || p.FirstSimple == nil {
			t.Fatalf("turn %d: no prompt %+v", i, resp)
		}
		said := p.FirstSimple.Speech
		if p.LastSimple != nil {
			said += " " + p.LastSimple.Speech
			checkSpeakIfSSML(t, p.LastSimple.Speech)
		}
		checkSpeakIfSSML(t, p.FirstSimple.Speech)
		if !strings.Contains(said, turn.want) {
			t.Fatalf("turn %d (%q): said %q, want %q", i, turn.query, said, turn.want)
		}
		last := i == len(turns)-1
		if last != (resp.Scene != nil && resp.Scene.Next.Name == SceneEndConversation) {
			t.Fatalf("turn %d: scene %+v", i, resp.Scene)
		}
		if !last && (resp.Expected == nil || len(resp.Expected.Speech) == 0) {
			t.Fatalf("turn %d: no expected speech", i)
		}
		if p.Suggestions != nil {
			t.Fatalf("turn %d: chips on a speaker", i)
		}
	}
	if userParams[ParamUser] == nil {
		t.Fatal("no parole user kept in user params")
	}
	booked(t, g, "googleassistant:ABwppHEF9x7DJxnL0tEA", ChannelAssistant, len(turns))
}

func checkSpeakIfSSML(t *testing.T, s string) {
	t.Helper()
	if strings.HasPrefix(s, "<") {
		checkSpeak(t, s)
	}
}

// The demo appointment booked by phone through the Dialogflow phone
// gateway (v2beta1): a precomputed "book" intent, then the caller's words
// through parole's matching, spoken as SSML, the call ended by
// endInteraction.
func TestBookingDialogflowTelephony(t *testing.T) {
	g := newRig(t, Config{DialogflowV2Beta1: true})
	type dfTurn struct {
		intent, query, want string
	}
	turns := []dfTurn{
		{"Default Welcome Intent", "TELEPHONY_WELCOME", "Say appointment, or press 2."},
		{"book", "I want to book", "Which day would you like to come?"},
		{"Default Fallback Intent", "tomorrow", "What phone number can we reach you on?"},
		{"Default Fallback Intent", "0612345678", "Is that right?"},
		{"Default Fallback Intent", "yes that's right", "Your appointment is booked."},
		{"Default Fallback Intent", "no", "Thank you for calling. Goodbye!"},
	}
	for i, turn := range turns {
		body := fixture(t, "dialogflow_telephony.json", func(m map[string]any) {
			qr := obj(m, "queryResult")
			qr["queryText"] = turn.query
			qr["intent"] = map[string]any{"name": "projects/your-agents-project-id/agent/intents/" + string(rune('a'+i)), "displayName": turn.intent}
			qr["action"] = ""
		})
		var resp WebhookResponse
		decode(t, g.dialogflow(t, body), &resp)
		var ssml []string
		for _, m := range resp.FulfillmentMessages {
			if m.TelephonySynthesizeSpeech != nil {
				checkSpeak(t, m.TelephonySynthesizeSpeech.SSML)
				ssml = append(ssml, m.TelephonySynthesizeSpeech.SSML)
			}
		}
		if !strings.Contains(strings.Join(ssml, " "), turn.want) {
			t.Fatalf("turn %d (%q): said %q, want %q", i, turn.query, ssml, turn.want)
		}
		last := i == len(turns)-1
		if resp.EndInteraction != last || resp.Payload.Google.ExpectUserResponse == last {
			t.Fatalf("turn %d: endInteraction %v", i, resp.EndInteraction)
		}
	}
	booked(t, g, "dialogflow:projects/your-agents-project-id/agent/sessions/tel-5b1a0e4d", ChannelDialogflow, len(turns))
}
