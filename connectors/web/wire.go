package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on the fields of a [Request].
const (
	// MaxUserIDLen bounds Request.UserID, in bytes.
	MaxUserIDLen = 256
	// MaxQueryLen bounds Request.Query and Request.Payload, in bytes.
	MaxQueryLen = 4096
	// MaxLocaleLen bounds Request.Locale, in bytes.
	MaxLocaleLen = 35
	// MaxRefLen bounds Request.Ref, in bytes.
	MaxRefLen = 1024
)

// ErrInvalidRequest is wrapped by every error of [DecodeRequest]: the
// body is not one JSON object of the expected shape, or a field is missing
// or out of bounds. The connector answers it with 400.
var ErrInvalidRequest = errors.New("web: invalid request")

// ErrMissingUserID is wrapped (with [ErrInvalidRequest]) when a request
// names no user.
var ErrMissingUserID = errors.New("web: missing userId")

// Request is the body of a POST to the connector, as Tock's
// WebConnectorRequest and tock-react-kit send it. A request carries a
// Query (typed text), or a Payload (a button the user clicked), or
// neither (the chat page opening, or a referral with Ref).
type Request struct {
	// Query is what the user typed; it wins over Payload when both are set.
	Query string `json:"query,omitempty"`
	// Payload is the payload of the button the user clicked.
	Payload string `json:"payload,omitempty"`
	// UserID names the user; the conversation continues by it.
	UserID string `json:"userId"`
	// Locale is the user's language: a BCP 47 tag ("fr-FR") or a Java
	// locale ("fr_FR"); empty means the connector's default.
	Locale string `json:"locale,omitempty"`
	// Ref is a referral parameter (a deep link): it (re)starts the
	// conversation, passed to the bot as the start event's "ref" metadata.
	Ref string `json:"ref,omitempty"`
	// ConnectorID is accepted for compatibility with Tock and ignored.
	ConnectorID string `json:"connectorId,omitempty"`
	// ReturnsHistory asks for the conversation's earlier messages in
	// Response.History.
	ReturnsHistory bool `json:"returnsHistory,omitempty"`
	// SourceWithContent is accepted for compatibility with Tock and ignored.
	SourceWithContent bool `json:"sourceWithContent,omitempty"`
	// StreamedResponse makes the POST answer at once with no responses; the
	// bot's replies then go to the user's server-sent-event stream.
	StreamedResponse bool `json:"streamedResponse,omitempty"`
}

// DecodeRequest reads one JSON request from r and checks it. Unknown
// fields are ignored (Tock clients send more than parole uses); trailing
// data after the object is an error. The locale comes back in BCP 47 form
// ("fr_FR" becomes "fr-FR"). Every error wraps [ErrInvalidRequest]; an
// error of r (such as *http.MaxBytesError) is wrapped as well.
func DecodeRequest(r io.Reader) (Request, error) {
	req, err := decodeRaw(r)
	if err != nil {
		return Request{}, err
	}
	if err := req.check(); err != nil {
		return Request{}, err
	}
	return req, nil
}

// decodeRaw decodes one JSON request without checking its fields.
func decodeRaw(r io.Reader) (Request, error) {
	var req Request
	dec := json.NewDecoder(r)
	if err := dec.Decode(&req); err != nil {
		return Request{}, fmt.Errorf("%w: bad JSON: %w", ErrInvalidRequest, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err == nil {
			err = errors.New("more than one JSON value")
		}
		return Request{}, fmt.Errorf("%w: data after the JSON object: %w", ErrInvalidRequest, err)
	}
	return req, nil
}

// check validates and normalises the fields of a decoded request.
func (req *Request) check() error {
	if err := checkUserID(req.UserID); err != nil {
		return err
	}
	if len(req.Query) > MaxQueryLen || len(req.Payload) > MaxQueryLen {
		return fmt.Errorf("%w: query or payload longer than %d bytes", ErrInvalidRequest, MaxQueryLen)
	}
	if len(req.Ref) > MaxRefLen {
		return fmt.Errorf("%w: ref longer than %d bytes", ErrInvalidRequest, MaxRefLen)
	}
	loc, err := normalizeLocale(req.Locale)
	if err != nil {
		return err
	}
	req.Locale = loc
	return nil
}

// checkUserID reports whether id can name a user: 1 to MaxUserIDLen bytes
// of valid UTF-8 without control characters.
func checkUserID(id string) error {
	if id == "" {
		return fmt.Errorf("%w: %w", ErrInvalidRequest, ErrMissingUserID)
	}
	if len(id) > MaxUserIDLen {
		return fmt.Errorf("%w: userId longer than %d bytes", ErrInvalidRequest, MaxUserIDLen)
	}
	if !utf8.ValidString(id) || strings.ContainsFunc(id, unicode.IsControl) {
		return fmt.Errorf("%w: userId has invalid characters", ErrInvalidRequest)
	}
	return nil
}

// normalizeLocale turns "fr_FR" into "fr-FR" and rejects anything but
// letters, digits and separators.
func normalizeLocale(l string) (string, error) {
	if l == "" {
		return "", nil
	}
	if len(l) > MaxLocaleLen {
		return "", fmt.Errorf("%w: locale longer than %d bytes", ErrInvalidRequest, MaxLocaleLen)
	}
	b := []byte(l)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-' || c == '_':
			if i == 0 || i == len(b)-1 {
				return "", fmt.Errorf("%w: locale %q is not a language tag", ErrInvalidRequest, l)
			}
			b[i] = '-'
		default:
			return "", fmt.Errorf("%w: locale %q is not a language tag", ErrInvalidRequest, l)
		}
	}
	return string(b), nil
}

// ButtonType is the kind of a [Button], as Tock names it.
type ButtonType string

// The button types of Tock's web connector.
const (
	// ButtonPostback is a button in a message or card: clicking it sends
	// its Payload back and the button stays.
	ButtonPostback ButtonType = "postback"
	// ButtonQuickReply is a quick reply under the last message: clicking
	// it sends its Payload back and the quick replies go away.
	ButtonQuickReply ButtonType = "quick_reply"
	// ButtonURL opens URL.
	ButtonURL ButtonType = "web_url"
)

// Response is the body the connector answers a POST with, and the data of
// each server-sent "message" event: Tock's WebConnectorResponse, plus
// History when the request asked for it.
type Response struct {
	// Responses are the bot's messages, in order.
	Responses []Message `json:"responses"`
	// Metadata holds facts about the reply: "RESPONSE_ID" (the same on the
	// POST answer and on the stream, so a client shows a reply once),
	// "end" ("true" when the bot ended the conversation) and "transfer"
	// (the target of a hand-over).
	Metadata map[string]string `json:"metadata"`
	// History holds the conversation's earlier messages, oldest first,
	// when the request set returnsHistory. Tock clients ignore it.
	History []HistoryItem `json:"history,omitempty"`
}

// Message is one message of the bot: Tock's WebMessage. Usually one of
// Text, Card, Carousel and Image is set.
type Message struct {
	Text     string    `json:"text,omitempty"`
	Buttons  []Button  `json:"buttons,omitempty"`
	Card     *Card     `json:"card,omitempty"`
	Carousel *Carousel `json:"carousel,omitempty"`
	Image    *Image    `json:"image,omitempty"`
	// DeepLink and Footnotes are part of Tock's format; parole's replies
	// have nothing that maps to them, so the connector never sets them.
	DeepLink  *DeepLink  `json:"deepLink,omitempty"`
	Footnotes []Footnote `json:"footnotes,omitempty"`
	// Version is the version of Tock's message format, "1".
	Version string `json:"version,omitempty"`
}

// Button is a button or quick reply: Tock's PostbackButton, QuickReply or
// UrlButton, told apart by Type.
type Button struct {
	Type  ButtonType `json:"type"`
	Title string     `json:"title"`
	// Payload comes back in Request.Payload when the user clicks
	// (postback and quick_reply).
	Payload string `json:"payload,omitempty"`
	// URL is the link of a web_url button, opened in Target ("_blank").
	URL    string `json:"url,omitempty"`
	Target string `json:"target,omitempty"`
	// ImageURL is an icon shown in the button.
	ImageURL string `json:"imageUrl,omitempty"`
	// Style is Tock's button style ("primary").
	Style string `json:"style,omitempty"`
}

// Card is a rich card: Tock's WebCard.
type Card struct {
	Title    string     `json:"title,omitempty"`
	SubTitle string     `json:"subTitle,omitempty"`
	File     *MediaFile `json:"file,omitempty"`
	Buttons  []Button   `json:"buttons,omitempty"`
}

// MediaFile is a file shown in a card or image: Tock's WebMediaFile. Type
// is "image", "audio", "video" or "file".
type MediaFile struct {
	URL         string `json:"url"`
	Name        string `json:"name"`
	Type        string `json:"type"`
	Description string `json:"description,omitempty"`
}

// Carousel is a row of cards: Tock's WebCarousel.
type Carousel struct {
	Cards []Card `json:"cards"`
}

// Image is an image message: Tock's WebImage.
type Image struct {
	File  MediaFile `json:"file"`
	Title string    `json:"title"`
}

// DeepLink is Tock's WebDeepLink: a referral the client may follow.
type DeepLink struct {
	Ref string `json:"ref"`
}

// Footnote is Tock's Footnote: a source document of the message.
type Footnote struct {
	Identifier string   `json:"identifier"`
	Title      string   `json:"title"`
	URL        string   `json:"url,omitempty"`
	Content    string   `json:"content,omitempty"`
	Score      *float64 `json:"score,omitempty"`
}

// Author says who wrote a [HistoryItem].
type Author string

// The authors of history items.
const (
	AuthorUser Author = "user"
	AuthorBot  Author = "bot"
)

// HistoryItem is one earlier message of the conversation: a user's text or
// clicked button (Text set to what the user saw), or a bot message.
type HistoryItem struct {
	Author Author `json:"author"`
	Message
}

// encodeJSON marshals v without escaping <, > and & (the output is JSON,
// not HTML) and without the trailing newline.
func encodeJSON(buf *bytes.Buffer, v any) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	buf.Truncate(buf.Len() - 1)
	return nil
}

// DecodeResponse reads a connector answer (or stream message data): what
// a Go client or test of the connector needs.
func DecodeResponse(r io.Reader) (Response, error) {
	var resp Response
	if err := json.NewDecoder(r).Decode(&resp); err != nil {
		return Response{}, fmt.Errorf("web: decode response: %w", err)
	}
	return resp, nil
}
