package allomedia_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/parole-voice/parole/connectors/allomedia"
	"github.com/parole-voice/parole/dialog/flow"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/dialog/store"
)

func Example() {
	f, _ := flow.Demo()
	bot, _ := flow.New(f)
	r := runner.New(bot, store.NewMemory(store.Options{}))
	c, err := allomedia.New(r, allomedia.Config{Username: "allomedia", Password: "change-me"})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	for _, p := range c.Routes() {
		mux.Handle(p, c)
	}
	call := func(body string) {
		req := httptest.NewRequest(http.MethodPost, "/io/allomedia/call", strings.NewReader(body))
		req.SetBasicAuth("allomedia", "change-me")
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		fmt.Print(w.Code, " ", w.Body.String())
	}
	call(`{"session":{"sessionId":"call-1"},"text":null,"intent":null,"locale":"fr_FR"}`)
	call(`{"session":{"sessionId":"call-1"},"text":"les horaires","intent":"hours"}`)
	// Output:
	// 201 {"sessionId":"call-1","outputText":{"textToSpeech":"Bienvenue sur la ligne de démonstration Parole.\nDites horaires, ou tapez 1. Dites rendez-vous, ou tapez 2. Dites conseiller, ou tapez 0."},"conversationEnd":false}
	// 201 {"sessionId":"call-1","outputText":{"textToSpeech":"Nous sommes ouverts du lundi au vendredi, de 9 heures à 18 heures.\nPuis-je vous aider pour autre chose ?"},"conversationEnd":false}
}
