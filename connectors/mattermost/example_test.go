package mattermost_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/parole-voice/parole/connectors/mattermost"
	"github.com/parole-voice/parole/dialog/flow"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/dialog/store"
)

func Example() {
	// A stand-in for the Mattermost server's REST API.
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p mattermost.Post
		json.NewDecoder(r.Body).Decode(&p)
		fmt.Printf("%s %s: %q\n", r.Method, r.URL.Path, p.Message)
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"id":"p1"}`))
	}))
	defer api.Close()

	f, _ := flow.Demo()
	bot, _ := flow.New(f)
	r := runner.New(bot, store.NewMemory(store.Options{}))
	c, err := mattermost.New(r, mattermost.Config{
		Token:     "zmigewsanbbsdf59xnmduzypjc", // the outgoing webhook's token
		ServerURL: api.URL,
		BotToken:  "bot-access-token",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	for _, p := range c.Routes() {
		mux.Handle(p, c)
	}
	body := "channel_id=hawos4dqtby53pd64o4a4cmeoo&user_id=rnina9994bde8mua79zqcg5hmo&text=opening+hours&token=zmigewsanbbsdf59xnmduzypjc"
	req := httptest.NewRequest(http.MethodPost, "/io/mattermost", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, req)
	fmt.Println(w.Code)
	// Output:
	// POST /api/v4/posts: "Welcome to the Parole demo line."
	// POST /api/v4/posts: "You can ask for our opening hours, book an appointment, or talk to an operator. What would you like?\n1. Opening hours\n2. Book an appointment"
	// POST /api/v4/posts: "We are open Monday to Friday, from 9 am to 6 pm."
	// POST /api/v4/posts: "Can I help you with anything else?\n1. Yes\n2. No"
	// 200
}
