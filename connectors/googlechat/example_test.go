package googlechat_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/parole-voice/parole/connectors/googlechat"
	"github.com/parole-voice/parole/dialog/flow"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/dialog/store"
)

func Example() {
	f, _ := flow.Demo()
	bot, _ := flow.New(f)
	r := runner.New(bot, store.NewMemory(store.Options{}))
	// In production: googlechat.Config{ProjectNumber: "1234567890"}, which
	// checks Chat's bearer tokens against Google's certificates.
	c, err := googlechat.New(r, googlechat.Config{InsecureSkipVerify: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	event := `{"type":"ADDED_TO_SPACE","eventTime":"2026-11-25T10:00:00Z",` +
		`"space":{"name":"spaces/AAAA","type":"DM","spaceType":"DIRECT_MESSAGE"},` +
		`"user":{"name":"users/1","displayName":"Chris","type":"HUMAN"},"common":{"userLocale":"en"}}`
	req := httptest.NewRequest(http.MethodPost, "/io/googlechat", strings.NewReader(event))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	c.ServeHTTP(w, req)
	fmt.Println(w.Code, w.Body.String())
	// Output:
	// 200 {"text":"Welcome to the Parole demo line.","cardsV2":[{"cardId":"card1","card":{"sections":[{"widgets":[{"textParagraph":{"text":"You can ask for our opening hours, book an appointment, or talk to an operator. What would you like?"}},{"buttonList":{"buttons":[{"text":"Opening hours","onClick":{"action":{"function":"parole_choice","parameters":[{"key":"payload","value":"hours"}]}}},{"text":"Book an appointment","onClick":{"action":{"function":"parole_choice","parameters":[{"key":"payload","value":"book"}]}}}]}}]}]}}]}
}
