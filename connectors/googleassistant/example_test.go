package googleassistant_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/parole-voice/parole/connectors/googleassistant"
	"github.com/parole-voice/parole/dialog/flow"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/dialog/store"
)

// A Dialogflow ES agent's fulfillment over the demo flow: the agent's
// fallback intent passes what the caller said to parole.
func Example() {
	f, _ := flow.Demo()
	bot, _ := flow.New(f)
	r := runner.New(bot, store.NewMemory(store.Options{}))
	c, err := googleassistant.New(r, googleassistant.Config{
		DialogflowUsername: "parole",
		DialogflowPassword: "change-me",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	for _, p := range c.Routes() {
		mux.Handle(p, c)
	}
	body := `{"responseId":"r1","session":"projects/my-agent/agent/sessions/s1",
	  "queryResult":{"queryText":"hello","languageCode":"en",
	    "intent":{"displayName":"Default Welcome Intent"}}}`
	req := httptest.NewRequest(http.MethodPost, "/io/google/dialogflow", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth("parole", "change-me")
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, req)

	var resp googleassistant.WebhookResponse
	json.Unmarshal(w.Body.Bytes(), &resp)
	fmt.Println(w.Code, c.Routes())
	fmt.Println(resp.FulfillmentText)
	fmt.Println(resp.FulfillmentMessages[1].QuickReplies.QuickReplies)
	fmt.Println(resp.Payload.Google.ExpectUserResponse)
	// Output:
	// 200 [POST /io/google/dialogflow]
	// Welcome to the Parole demo line.
	// You can ask for our opening hours, book an appointment, or talk to an operator. What would you like?
	// [Opening hours Book an appointment]
	// true
}

func ExampleFilterSSML() {
	s, _ := googleassistant.FilterSSML(`<speak>Hello <amazon:effect name="whispered">there</amazon:effect><break time="500ms"/><say-as interpret-as="characters">SSML</say-as></speak>`)
	fmt.Println(s)
	// Output: Hello there<break time="500ms"/><say-as interpret-as="characters">SSML</say-as>
}
