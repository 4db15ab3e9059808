package alexa_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/parole-voice/parole/connectors/alexa"
	"github.com/parole-voice/parole/dialog/flow"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/dialog/store"
)

// A skill endpoint over the demo flow. Verification is off here only
// because the example cannot be signed by Amazon.
func Example() {
	f, _ := flow.Demo()
	bot, _ := flow.New(f)
	r := runner.New(bot, store.NewMemory(store.Options{}))
	c, err := alexa.New(r, alexa.Config{InsecureSkipVerify: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	for _, p := range c.Routes() {
		mux.Handle(p, c)
	}
	body := `{"version":"1.0",
	  "session":{"new":true,"sessionId":"amzn1.echo-api.session.1","application":{"applicationId":"amzn1.ask.skill.1"},"user":{"userId":"amzn1.ask.account.1"}},
	  "request":{"type":"IntentRequest","requestId":"r1","timestamp":"2026-11-25T10:00:00Z","locale":"en-US",
	    "intent":{"name":"CatchAll","slots":{"query":{"name":"query","value":"when are you open"}}}}}`
	req := httptest.NewRequest(http.MethodPost, "/io/alexa", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, req)
	fmt.Println(w.Code, c.Routes())
	// A first utterance starts the flow: the welcome and the menu.
	fmt.Println(strings.Contains(w.Body.String(), `"ssml":"\u003cspeak\u003eWelcome to the Parole demo line.`))
	// Output:
	// 200 [POST /io/alexa]
	// true
}

func ExampleFilterSSML() {
	s, _ := alexa.FilterSSML(`<speak>Hello <unknown>there</unknown><break time="500ms"/><amazon:emotion name="excited" intensity="medium">great</amazon:emotion></speak>`)
	fmt.Println(s)
	// Output: Hello there<break time="500ms"/><amazon:emotion name="excited" intensity="medium">great</amazon:emotion>
}
