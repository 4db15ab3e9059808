package messenger_test

import (
	"encoding/json"
	"fmt"

	"github.com/parole-voice/parole/connectors/messenger"
	"github.com/parole-voice/parole/dialog"
)

// A reply with choices becomes a text message with quick replies; the
// tapped quick reply's payload comes back as a choice event.
func ExampleRender() {
	msgs := messenger.Render(dialog.Reply{Messages: []dialog.Message{{
		Text:    "What would you like?",
		Choices: []dialog.Choice{{Title: "Opening hours", Payload: "hours"}, {Title: "Book an appointment", Payload: "book"}},
	}}})
	b, _ := json.MarshalIndent(msgs, "", "  ")
	fmt.Println(string(b))
	// Output:
	// [
	//   {
	//     "text": "What would you like?",
	//     "quick_replies": [
	//       {
	//         "content_type": "text",
	//         "title": "Opening hours",
	//         "payload": "hours"
	//       },
	//       {
	//         "content_type": "text",
	//         "title": "Book an appointment",
	//         "payload": "book"
	//       }
	//     ]
	//   }
	// ]
}
