package teams_test

import (
	"encoding/json"
	"fmt"

	"github.com/parole-voice/parole/connectors/teams"
	"github.com/parole-voice/parole/dialog"
)

// A reply with choices becomes a message with a Hero card of messageBack
// buttons; the clicked button's value {"choice": …} comes back as a choice
// event.
func ExampleRender() {
	acts := teams.Render(dialog.Reply{Messages: []dialog.Message{{
		Text:    "What would you like? 🙂",
		Choices: []dialog.Choice{{Title: "Opening hours", Payload: "hours"}, {Title: "Website", URL: "https://example.com"}},
	}}}, teams.RenderOptions{})
	b, _ := json.MarshalIndent(acts[0], "", "  ")
	fmt.Println(string(b))
	// Output:
	// {
	//   "type": "message",
	//   "textFormat": "markdown",
	//   "text": "What would you like? 🙂",
	//   "attachments": [
	//     {
	//       "contentType": "application/vnd.microsoft.card.hero",
	//       "content": {
	//         "buttons": [
	//           {
	//             "type": "messageBack",
	//             "title": "Opening hours",
	//             "text": "Opening hours",
	//             "displayText": "Opening hours",
	//             "value": {
	//               "choice": "hours"
	//             }
	//           },
	//           {
	//             "type": "openUrl",
	//             "title": "Website",
	//             "value": "https://example.com"
	//           }
	//         ]
	//       }
	//     }
	//   ]
	// }
}

// Texts are cut in UTF-16 code units, as Teams counts them, without
// breaking an emoji.
func ExampleTruncateUTF16() {
	s := "Booked 👍🏽 see you"
	fmt.Println(teams.UTF16Len(s), teams.TruncateUTF16(s, 10))
	// Output:
	// 19 Booked…
}

// The token endpoint of a multi-tenant and of a single-tenant bot.
func ExampleTokenURL() {
	fmt.Println(teams.TokenURL("", ""))
	fmt.Println(teams.TokenURL("", "72f988bf-86f1-41af-91ab-2d7cd011db47"))
	// Output:
	// https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token
	// https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token
}
