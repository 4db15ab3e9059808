package slack_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/parole-voice/parole/connectors/slack"
	"github.com/parole-voice/parole/dialog"
)

// A reply with choices becomes a mrkdwn section and an actions block of
// buttons whose values are the choices' payloads; a click comes back as a
// block_actions payload and a choice event.
func ExampleRender() {
	msgs := slack.Render(dialog.Reply{Messages: []dialog.Message{{
		Text:    "What would you like?",
		Choices: []dialog.Choice{{Title: "Opening hours", Payload: "hours"}, {Title: "Website", URL: "https://example.com"}},
	}}})
	b, _ := json.MarshalIndent(msgs[0].Blocks, "", "  ")
	fmt.Println(msgs[0].Text)
	fmt.Println(string(b))
	// Output:
	// What would you like?
	// [
	//   {
	//     "type": "section",
	//     "text": {
	//       "type": "mrkdwn",
	//       "text": "What would you like?"
	//     }
	//   },
	//   {
	//     "type": "actions",
	//     "elements": [
	//       {
	//         "type": "button",
	//         "text": {
	//           "type": "plain_text",
	//           "text": "Opening hours",
	//           "emoji": true
	//         },
	//         "action_id": "parole_choice_0",
	//         "value": "hours"
	//       },
	//       {
	//         "type": "button",
	//         "text": {
	//           "type": "plain_text",
	//           "text": "Website",
	//           "emoji": true
	//         },
	//         "action_id": "parole_link_1",
	//         "url": "https://example.com"
	//       }
	//     ]
	//   }
	// ]
}

// Verify checks Slack's request signature; this is the worked example of
// Slack's documentation.
func ExampleVerify() {
	body := []byte("token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")
	h := http.Header{}
	h.Set(slack.TimestampHeader, "1531420618")
	h.Set(slack.SignatureHeader, "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503")
	err := slack.Verify("8f742231b10e8888abcd99yyyzzz85a5", h, body, time.Unix(1531420618, 0), slack.DefaultTolerance)
	fmt.Println(err)
	// Output:
	// <nil>
}
