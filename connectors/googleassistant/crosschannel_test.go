package googleassistant

import (
	"context"
	"strings"
	"testing"
)

// A linked user starts booking by phone through Dialogflow (the Assistant
// payload carries the account token) and finishes on a smart display over
// Actions Builder: the runner continues the user's open conversation, the
// Builder's opening request gets the pending question, and the transcript
// keeps both channels.
func TestLinkedUserAcrossFormats(t *testing.T) {
	g := newRig(t, Config{AccountJWTSecret: "linking-secret"})
	tok := hs256(t, "linking-secret", "alice")
	df := func(intent, query string) *WebhookResponse {
		var resp WebhookResponse
		decode(t, g.dialogflow(t, fixture(t, "dialogflow_fallback.json", func(m map[string]any) {
			qr := obj(m, "queryResult")
			qr["queryText"], qr["action"] = query, ""
			qr["intent"] = map[string]any{"displayName": intent}
			m["originalDetectIntentRequest"] = map[string]any{"source": "google", "version": "2", "payload": map[string]any{
				"user": map[string]any{"accessToken": tok, "locale": "en-US"}, "conversation": map[string]any{"conversationId": "c1"},
				"surface": map[string]any{"capabilities": []any{map[string]any{"name": CapabilityAudio}}},
			}}
		})), &resp)
		return &resp
	}
	df("Default Welcome Intent", "GOOGLE_ASSISTANT_WELCOME")
	if r := df("Default Fallback Intent", "I'd like an appointment"); !strings.Contains(r.FulfillmentText, "Which day") {
		t.Fatalf("dialogflow: %q", r.FulfillmentText)
	}
	builder := func(intent, query string) *HandlerResponse {
		var resp HandlerResponse
		decode(t, g.builder(t, fixture(t, "builder_main.json", func(m map[string]any) {
			m["intent"] = map[string]any{"name": intent, "query": query}
			obj(m, "session")["id"] = "builder-session-2"
		}), "Authorization", "Bearer "+tok), &resp)
		return &resp
	}
	if r := builder("actions.intent.MAIN", ""); r.Prompt == nil || !strings.Contains(r.Prompt.FirstSimple.Text, "Which day would you like to come?") {
		t.Fatalf("builder resume: %+v", r.Prompt)
	}
	if r := builder("actions.intent.NO_MATCH_1", "tomorrow"); !strings.Contains(r.Prompt.FirstSimple.Text, "phone number") {
		t.Fatalf("builder next: %+v", r.Prompt.FirstSimple)
	}
	id := "dialogflow:projects/your-agents-project-id/agent/sessions/88d13aa8-2999-4f71-b233-39cbf3a824a0"
	conv, _, err := g.st.Load(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if conv.UserID != "alice" || conv.Slots["date"] != "2026-11-26" {
		t.Fatalf("conversation %+v", conv)
	}
	tr, err := g.r.Transcript(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var channels []string
	for _, e := range tr {
		channels = append(channels, e.Channel)
	}
	if got := strings.Join(channels, ","); got != "dialogflow,dialogflow,dialogflow,dialogflow,googleassistant,googleassistant,googleassistant,googleassistant" {
		t.Fatalf("transcript channels %s", got)
	}
}
