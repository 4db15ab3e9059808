package meta

import (
	"log/slog"
	"net/http"

	"github.com/parole-voice/parole/connectors/internal/httpx"
)

// Webhook is the HTTP front of a Graph API webhook, common to the
// Messenger and WhatsApp connectors: one path taking the verification GET
// and the signed event POSTs.
type Webhook struct {
	// Name prefixes the log messages ("messenger", "whatsapp").
	Name string
	// Path is the webhook's path.
	Path string
	// VerifyToken is checked on the verification GET.
	VerifyToken string
	// AppSecret checks the X-Hub-Signature-256 of the POSTs, unless
	// InsecureSkipVerify.
	AppSecret          string
	InsecureSkipVerify bool
	// MaxBodyBytes bounds a POST's body.
	MaxBodyBytes int64
	// Log logs the refused requests.
	Log *slog.Logger
}

// Routes lists the mux patterns of the webhook: GET and POST on Path.
func (h *Webhook) Routes() []string {
	return []string{"GET " + h.Path, "POST " + h.Path}
}

// Read does what every webhook request needs before its events are
// parsed: 404 off Path, the verification GET answered ([ServeVerification]),
// 405 for other methods than GET and POST, and a POST's body read and its
// signature checked ([ReadWebhook]: 415, 413, 401). It returns the body and
// true for a POST to handle; otherwise the response is written.
func (h *Webhook) Read(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.URL.Path != h.Path {
		httpx.WriteJSON(w, http.StatusNotFound, map[string]string{"error": "no such endpoint"})
		return nil, false
	}
	switch r.Method {
	case http.MethodGet:
		if err := ServeVerification(w, r, h.VerifyToken); err != nil {
			h.Log.Warn(h.Name+": webhook verification refused", "err", err)
		}
		return nil, false
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "GET, POST")
		httpx.WriteJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": r.Method + " is not allowed here"})
		return nil, false
	}
	body, err := ReadWebhook(w, r, h.MaxBodyBytes, h.AppSecret, h.InsecureSkipVerify)
	if err != nil {
		h.Refuse(w, err)
		return nil, false
	}
	return body, true
}

// Refuse logs err and answers it with its status ([httpx.WriteError]): for
// a body that does not parse.
func (h *Webhook) Refuse(w http.ResponseWriter, err error) {
	h.Log.Warn(h.Name+": webhook refused", "err", err)
	httpx.WriteError(w, err)
}

// Busy logs err, the reason a turn could not be queued, and answers 503
// so that Meta delivers again later.
func (h *Webhook) Busy(w http.ResponseWriter, err error) {
	h.Log.Error(h.Name+": cannot queue a turn", "err", err)
	httpx.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "busy, deliver again later"})
}
