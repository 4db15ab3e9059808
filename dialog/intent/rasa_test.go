package intent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// rasaParseAnswer is a /model/parse answer shaped like Rasa 3's (DIET
// classifier and a regex entity), for the text below. Offsets are in
// characters, as Python counts them.
const rasaText = "Réserver à Zürich pour 2 personnes"

const rasaParseAnswer = `{
  "text": "Réserver à Zürich pour 2 personnes",
  "intent": {"id": -2146374394, "name": "book", "confidence": 0.9721},
  "entities": [
    {"entity": "city", "start": 11, "end": 17, "confidence_entity": 0.998, "value": "Zürich", "extractor": "DIETClassifier"},
    {"entity": "people", "start": 23, "end": 24, "value": 2, "extractor": "DucklingEntityExtractor"},
    {"entity": "when", "start": 0, "end": 0, "value": {"grain": "day"}, "extractor": "DucklingEntityExtractor"}
  ],
  "text_tokens": [[0, 8], [9, 10]],
  "intent_ranking": [
    {"id": -2146374394, "name": "book", "confidence": 0.9721},
    {"id": 18, "name": "cancel", "confidence": 0.0279}
  ],
  "response_selector": {"all_retrieval_intents": [], "default": {"response": {}, "ranking": []}}
}`

// rasaServer checks each request the way Rasa's Sanic app would receive it
// and answers with status and body.
func rasaServer(t *testing.T, wantPath, wantToken, wantJWT, wantID string, status int, body string) *httptest.Server {
	t.Helper()
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		check := func(what, got, want string) {
			if got != want {
				t.Errorf("request %s = %q, want %q", what, got, want)
			}
		}
		check("method", r.Method, http.MethodPost)
		check("path", r.URL.Path, wantPath)
		check("token", r.URL.Query().Get("token"), wantToken)
		check("content type", r.Header.Get("Content-Type"), "application/json")
		want := ""
		if wantJWT != "" {
			want = "Bearer " + wantJWT
		}
		check("authorization", r.Header.Get("Authorization"), want)
		raw, _ := io.ReadAll(r.Body)
		var req map[string]any
		if err := json.Unmarshal(raw, &req); err != nil {
			t.Errorf("request body %q: %v", raw, err)
		}
		check("text", req["text"].(string), rasaText)
		id, hasID := req["message_id"]
		if wantID == "" && hasID {
			t.Errorf("message_id sent empty: %s", raw)
		}
		if wantID != "" {
			check("message_id", id.(string), wantID)
		}
		if len(req) > 2 {
			t.Errorf("unexpected fields in %s", raw)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
}

func TestRasaParse(t *testing.T) {
	srv := rasaServer(t, "/model/parse", "s3cret", "", "", 200, rasaParseAnswer)
	defer srv.Close()
	r := &Rasa{URL: srv.URL, Token: "s3cret"}
	res, err := r.Parse(context.Background(), rasaText, "fr")
	if err != nil {
		t.Fatal(err)
	}
	if res.Intent != "book" || res.Confidence != 0.9721 || res.Text != rasaText {
		t.Fatalf("result %+v", res)
	}
	if len(res.Ranking) != 2 || res.Ranking[1] != (Scored{"cancel", 0.0279}) {
		t.Errorf("ranking %+v", res.Ranking)
	}
	if len(res.Entities) != 3 {
		t.Fatalf("entities %+v", res.Entities)
	}
	city := res.Entities[0]
	if city.Entity != "city" || city.Value != "Zürich" || rasaText[city.Start:city.End] != "Zürich" ||
		city.Confidence != 0.998 || city.Extractor != "DIETClassifier" {
		t.Errorf("city %+v", city)
	}
	people := res.Entities[1]
	if people.Value != "2" || rasaText[people.Start:people.End] != "2" {
		t.Errorf("people %+v", people)
	}
	if res.Entities[2].Value != `{"grain": "day"}` {
		t.Errorf("object value %q", res.Entities[2].Value)
	}
}

func TestRasaMessageIDPathPrefixJWT(t *testing.T) {
	srv := rasaServer(t, "/rasa/model/parse", "", "eyJ.x.y", "b2831e73-1407", 200, rasaParseAnswer)
	defer srv.Close()
	r := &Rasa{URL: srv.URL + "/rasa/", JWT: "eyJ.x.y", Client: srv.Client()}
	if _, err := r.ParseMessage(context.Background(), rasaText, "b2831e73-1407"); err != nil {
		t.Fatal(err)
	}
}

func TestRasaNoIntent(t *testing.T) {
	srv := rasaServer(t, "/model/parse", "", "", "", 200,
		`{"text": "`+rasaText+`", "intent": {"name": null, "confidence": 0.0}, "entities": []}`)
	defer srv.Close()
	res, err := (&Rasa{URL: srv.URL}).Parse(context.Background(), rasaText, "")
	if err != nil || res.Intent != "" || res.Confidence != 0 || len(res.Entities) != 0 {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestRasaErrors(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		max    int64
		check  func(error) bool
	}{
		{"401", 401, `{"version":"3.6.0","status":"failure","reason":"NotAuthenticated","message":"User is not authenticated.","code":401}`, 0,
			func(err error) bool {
				var se *StatusError
				return errors.As(err, &se) && se.Code == 401 && strings.Contains(se.Message, "NotAuthenticated")
			}},
		{"500", 500, `oops`, 0, func(err error) bool {
			var se *StatusError
			return errors.As(err, &se) && se.Code == 500
		}},
		{"bad json", 200, `{"intent": `, 0, func(err error) bool { return errors.Is(err, ErrBadResponse) }},
		{"not an object", 200, `[1,2]`, 0, func(err error) bool { return errors.Is(err, ErrBadResponse) }},
		{"wrong type", 200, `{"intent": {"name": 3, "confidence": 1}}`, 0, func(err error) bool { return errors.Is(err, ErrBadResponse) }},
		{"confidence", 200, `{"intent": {"name": "x", "confidence": 7}}`, 0, func(err error) bool { return errors.Is(err, ErrBadResponse) }},
		{"ranking", 200, `{"intent_ranking": [{"confidence": 0.1}]}`, 0, func(err error) bool { return errors.Is(err, ErrBadResponse) }},
		{"entity span", 200, `{"entities": [{"entity": "e", "start": 3, "end": 99, "value": "v"}]}`, 0,
			func(err error) bool { return errors.Is(err, ErrBadResponse) }},
		{"entity no value", 200, `{"entities": [{"entity": "e", "start": 0, "end": 1}]}`, 0,
			func(err error) bool { return errors.Is(err, ErrBadResponse) }},
		{"too large", 200, rasaParseAnswer, 100, func(err error) bool { return errors.Is(err, ErrResponseTooLarge) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := rasaServer(t, "/model/parse", "", "", "", c.status, c.body)
			defer srv.Close()
			_, err := (&Rasa{URL: srv.URL, MaxResponseBytes: c.max}).Parse(context.Background(), rasaText, "")
			if err == nil || !c.check(err) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestRasaTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	_, err := (&Rasa{URL: srv.URL, Timeout: 50 * time.Millisecond}).Parse(context.Background(), "x", "")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Timeout: err = %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = (&Rasa{URL: srv.URL}).Parse(ctx, "x", "")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("context: err = %v", err)
	}
}

func TestRasaConfig(t *testing.T) {
	for _, u := range []string{"", "localhost:5005", "ftp://x/", "http://", "http://[::1"} {
		if _, err := (&Rasa{URL: u}).Parse(context.Background(), "x", ""); !errors.Is(err, ErrConfig) {
			t.Errorf("URL %q: err = %v", u, err)
		}
	}
}

func TestByteOffset(t *testing.T) {
	s := "aé€😀b"
	for n, want := range []int{0, 1, 3, 6, 10, 11} {
		if got := byteOffset(s, n); got != want {
			t.Errorf("byteOffset(%d) = %d, want %d", n, got, want)
		}
	}
	if !bytes.Equal([]byte(s[byteOffset(s, 3):byteOffset(s, 4)]), []byte("😀")) {
		t.Error("emoji span")
	}
}
