package whatsapp_test

import (
	"encoding/json"
	"fmt"

	"github.com/parole-voice/parole/connectors/whatsapp"
	"github.com/parole-voice/parole/dialog"
)

// A reply with up to three choices becomes an interactive message with
// reply buttons; the tapped button's id comes back in a button_reply.
func ExampleRender() {
	msgs := whatsapp.Render(dialog.Reply{Messages: []dialog.Message{{
		Text:    "Can I help you with anything else?",
		Choices: []dialog.Choice{{Title: "Yes", Payload: "yes"}, {Title: "No", Payload: "no"}},
	}}}, whatsapp.RenderOptions{})
	b, _ := json.MarshalIndent(msgs[0].Interactive, "", "  ")
	fmt.Println(msgs[0].Type)
	fmt.Println(string(b))
	// Output:
	// interactive
	// {
	//   "type": "button",
	//   "body": {
	//     "text": "Can I help you with anything else?"
	//   },
	//   "action": {
	//     "buttons": [
	//       {
	//         "type": "reply",
	//         "reply": {
	//           "id": "yes",
	//           "title": "Yes"
	//         }
	//       },
	//       {
	//         "type": "reply",
	//         "reply": {
	//           "id": "no",
	//           "title": "No"
	//         }
	//       }
	//     ]
	//   }
	// }
}
