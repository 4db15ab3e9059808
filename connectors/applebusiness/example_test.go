package applebusiness_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/parole-voice/parole/connectors/applebusiness"
	"github.com/parole-voice/parole/dialog/flow"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/dialog/store"
)

func Example() {
	// A stand-in for the messaging service provider's API.
	msp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m applebusiness.Outbound
		json.NewDecoder(r.Body).Decode(&m)
		fmt.Printf("%s %s → %s %s: %q\n", r.URL.Path, m.SourceID, m.DestinationID, m.Type, m.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer msp.Close()

	f, _ := flow.Demo()
	bot, _ := flow.New(f)
	r := runner.New(bot, store.NewMemory(store.Options{}))
	c, err := applebusiness.New(r, applebusiness.Config{
		BusinessID: "biz-1",
		MSPURL:     msp.URL,
		APIToken:   "msp-api-token",
		Secret:     "msp-shared-secret",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	body := `{"id":"m1","sourceId":"urn:mbid:AQAA","destinationId":"biz-1","type":"text","body":"opening hours","locale":"en_US"}`
	ts := time.Now().Unix()
	req := httptest.NewRequest(http.MethodPost, "/io/applebusiness", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(applebusiness.TimestampHeader, strconv.FormatInt(ts, 10))
	req.Header.Set(applebusiness.SignatureHeader, applebusiness.Sign("msp-shared-secret", ts, []byte(body)))
	w := httptest.NewRecorder()
	c.ServeHTTP(w, req)
	fmt.Println(w.Code)
	// Output:
	// /messages biz-1 → urn:mbid:AQAA text: "Welcome to the Parole demo line."
	// /messages biz-1 → urn:mbid:AQAA text: "You can ask for our opening hours, book an appointment, or talk to an operator. What would you like?"
	// /messages biz-1 → urn:mbid:AQAA interactive: "You can ask for our opening hours, book an appointment, or talk to an operator. What…\n- Opening hours\n- Book an appointment"
	// /messages biz-1 → urn:mbid:AQAA text: "We are open Monday to Friday, from 9 am to 6 pm."
	// /messages biz-1 → urn:mbid:AQAA text: "Can I help you with anything else?"
	// /messages biz-1 → urn:mbid:AQAA interactive: "Can I help you with anything else?\n- Yes\n- No"
	// 200
}
