package dialog_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/parole-voice/parole/dialog"
)

// A bot written in Go: it greets the caller, asks for a department by voice
// or keypad, and transfers the call.
func Example_goBot() {
	bot := dialog.BotFunc(func(ctx context.Context, conv *dialog.Conversation, ev dialog.Event) (dialog.Reply, error) {
		ask := &dialog.Gather{
			Speech: true,
			Hints:  []string{"sales", "support"},
			DTMF:   &dialog.DTMFOptions{Options: map[string]string{"1": "sales", "2": "support"}},
		}
		switch ev.Type {
		case dialog.EventStart:
			r := dialog.Say("Welcome. Say sales or support, or press 1 or 2.")
			r.Gather = ask
			return r, nil
		case dialog.EventText, dialog.EventChoice:
			dept := strings.ToLower(ev.Text + ev.Choice)
			if dept == "sales" || dept == "support" {
				conv.SetSlot("department", dept)
				r := dialog.Say("Connecting you to " + dept + ".")
				r.Transfer = &dialog.Transfer{Target: "sip:" + dept + "@pbx.example.com"}
				return r, nil
			}
		}
		r := dialog.Say("Sorry, say sales or support.")
		r.Gather = ask
		return r, nil
	})

	ctx := context.Background()
	conv := &dialog.Conversation{ID: "c1", Channel: "sip", Locale: "en-US"}
	for _, ev := range []dialog.Event{
		{Type: dialog.EventStart},
		dialog.Text("billing"),
		{Type: dialog.EventChoice, Choice: "support"},
	} {
		reply, err := bot.Handle(ctx, conv, ev)
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		if err := reply.Validate(); err != nil {
			fmt.Println("invalid:", err)
			return
		}
		fmt.Println(reply.Text())
		if reply.Transfer != nil {
			fmt.Println("transfer to", reply.Transfer.Target)
		}
	}
	fmt.Println("department:", conv.Slots["department"])
	// Output:
	// Welcome. Say sales or support, or press 1 or 2.
	// Sorry, say sales or support.
	// Connecting you to support.
	// transfer to sip:support@pbx.example.com
	// department: support
}
