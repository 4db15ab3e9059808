package flow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/parole-voice/parole/dialog"
)

// WebhookRequest is the JSON body a webhook step POSTs.
type WebhookRequest struct {
	// Flow and Step name where the conversation is.
	Flow string `json:"flow"`
	Step string `json:"step"`
	// Conversation is the whole conversation state: id, user, channel,
	// locale, slots and vars.
	Conversation *dialog.Conversation `json:"conversation"`
}

// WebhookResponse is the JSON a webhook answers with. Every field is
// optional.
type WebhookResponse struct {
	// Slots are set on the conversation (an empty value deletes the slot).
	Slots map[string]string `json:"slots,omitempty"`
	// Say is said before the next step's prompt.
	Say string `json:"say,omitempty"`
	// Next overrides the step's goto; it must name a step of the flow.
	Next string `json:"next,omitempty"`
}

// maxWebhookBody bounds a webhook's answer.
const maxWebhookBody = 1 << 20

// errWebhook is wrapped by every webhook failure.
var errWebhook = errors.New("webhook failed")

// callWebhook runs a webhook step and returns the next step: the answer's
// next, the step's goto, or on_error when the call fails.
func (e *Engine) callWebhook(ctx context.Context, t *turn, s *Step) string {
	resp, err := e.postWebhook(ctx, t.conv, s)
	if err != nil {
		e.logger.LogAttrs(ctx, slog.LevelError, "flow webhook failed",
			slog.String("flow", e.flow.Name), slog.String("step", s.name), slog.String("error", err.Error()))
		t.conv.SetVar("webhook_error", err.Error())
		return s.Webhook.OnError
	}
	for k, v := range resp.Slots {
		if v == "" {
			delete(t.conv.Slots, k)
			continue
		}
		t.conv.SetSlot(k, v)
	}
	if resp.Say != "" {
		t.say(dialog.Message{Text: fill(resp.Say, e.shown(t))})
	}
	if resp.Next != "" {
		return resp.Next
	}
	return s.Goto
}

func (e *Engine) postWebhook(ctx context.Context, conv *dialog.Conversation, s *Step) (*WebhookResponse, error) {
	w := s.Webhook
	timeout := time.Duration(w.Timeout)
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	body, err := json.Marshal(WebhookRequest{Flow: e.flow.Name, Step: s.name, Conversation: conv})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errWebhook, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errWebhook, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "parole-flow")
	for k, v := range w.Headers {
		req.Header.Set(k, v)
	}
	res, err := e.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errWebhook, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxWebhookBody+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading the answer: %w", errWebhook, err)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return nil, fmt.Errorf("%w: %s answered %s", errWebhook, w.URL, res.Status)
	}
	if len(data) > maxWebhookBody {
		return nil, fmt.Errorf("%w: answer larger than %d bytes", errWebhook, maxWebhookBody)
	}
	var out WebhookResponse
	if len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, &out); err != nil {
			return nil, fmt.Errorf("%w: answer is not the expected JSON: %w", errWebhook, err)
		}
	}
	if out.Next != "" && e.flow.Steps[out.Next] == nil {
		return nil, fmt.Errorf("%w: answer names no step of the flow: next %q", errWebhook, out.Next)
	}
	return &out, nil
}
