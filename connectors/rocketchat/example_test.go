package rocketchat_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/parole-voice/parole/connectors/rocketchat"
	"github.com/parole-voice/parole/dialog/flow"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/dialog/store"
)

func Example() {
	// A stand-in for the Rocket.Chat REST API.
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m rocketchat.PostMessage
		json.NewDecoder(r.Body).Decode(&m)
		var buttons []string
		for _, a := range m.Attachments {
			for _, b := range a.Actions {
				buttons = append(buttons, "["+b.Text+"]")
			}
		}
		fmt.Println(strings.TrimSpace(r.URL.Path + " " + m.Text + " " + strings.Join(buttons, " ")))
		w.Write([]byte(`{"success":true}`))
	}))
	defer api.Close()

	f, _ := flow.Demo()
	bot, _ := flow.New(f)
	r := runner.New(bot, store.NewMemory(store.Options{}))
	c, err := rocketchat.New(r, rocketchat.Config{
		Token:     "ir7hozblv4", // the outgoing integration's token
		ServerURL: api.URL,
		AuthToken: "personal-access-token",
		UserID:    "aobEdbYhXfu5hkeqG",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	body := `{"token":"ir7hozblv4","bot":false,"channel_id":"GENERAL","message_id":"m1","user_id":"u1","user_name":"ana","text":"hello"}`
	req := httptest.NewRequest(http.MethodPost, "/io/rocketchat", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	c.ServeHTTP(w, req)
	fmt.Println(w.Code)
	// Output:
	// /api/v1/chat.postMessage Welcome to the Parole demo line.
	// /api/v1/chat.postMessage You can ask for our opening hours, book an appointment, or talk to an operator. What would you like? [Opening hours] [Book an appointment]
	// /api/v1/chat.postMessage Sorry, I didn't understand.
	// /api/v1/chat.postMessage You can ask for our opening hours, book an appointment, or talk to an operator. What would you like? [Opening hours] [Book an appointment]
	// 200
}
