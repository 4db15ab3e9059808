package twitter_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/parole-voice/parole/connectors/twitter"
	"github.com/parole-voice/parole/dialog/flow"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/dialog/store"
)

func Example() {
	// A stand-in for the X API.
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct{ Text string }
		json.NewDecoder(r.Body).Decode(&m)
		fmt.Printf("%s %q\n", r.URL.Path, m.Text)
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"data":{"dm_conversation_id":"1-2","dm_event_id":"3"}}`))
	}))
	defer api.Close()

	f, _ := flow.Demo()
	bot, _ := flow.New(f)
	r := runner.New(bot, store.NewMemory(store.Options{}))
	c, err := twitter.New(r, twitter.Config{
		ConsumerSecret: "consumer-secret",
		UserID:         "4337869213", // the bot account
		AccessToken:    "oauth2-user-access-token",
		APIURL:         api.URL,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// The CRC.
	w := httptest.NewRecorder()
	c.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/io/twitter?crc_token=9b4507b3", nil))
	fmt.Print(w.Body.String())

	// A direct message, signed as X signs it (the same HMAC as the CRC,
	// over the body).
	body := `{"for_user_id":"4337869213","direct_message_events":[{"type":"message_create","id":"1","created_timestamp":"1516403560557",` +
		`"message_create":{"target":{"recipient_id":"4337869213"},"sender_id":"3001969357","message_data":{"text":"opening hours"}}}]}`
	req := httptest.NewRequest(http.MethodPost, "/io/twitter", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(twitter.SignatureHeader, twitter.ResponseToken("consumer-secret", body))
	w = httptest.NewRecorder()
	c.ServeHTTP(w, req)
	fmt.Println(w.Code)
	// Output:
	// {"response_token":"sha256=cqTxvy4ioX35qDxL1srZE9CLvfoM4bBGTrU1LUf2s98="}
	// /2/dm_conversations/with/3001969357/messages "Welcome to the Parole demo line."
	// /2/dm_conversations/with/3001969357/messages "You can ask for our opening hours, book an appointment, or talk to an operator. What would you like?\n1. Opening hours\n2. Book an appointment"
	// /2/dm_conversations/with/3001969357/messages "We are open Monday to Friday, from 9 am to 6 pm."
	// /2/dm_conversations/with/3001969357/messages "Can I help you with anything else?\n1. Yes\n2. No"
	// 200
}
