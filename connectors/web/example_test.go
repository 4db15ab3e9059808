package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/parole-voice/parole/connectors/web"
	"github.com/parole-voice/parole/dialog"
	"github.com/parole-voice/parole/dialog/flow"
	"github.com/parole-voice/parole/dialog/runner"
	"github.com/parole-voice/parole/dialog/store"
)

// A web connector over the demo flow: the first request of a user gets
// the welcome before the answer, then the conversation goes on by userId.
func Example() {
	f, _ := flow.Demo()
	engine, _ := flow.New(f)
	st := store.NewMemory(store.Options{})
	defer st.Close()
	conn, err := web.New(runner.New(engine, st), web.Config{})
	if err != nil {
		panic(err)
	}
	defer conn.Close()

	send := func(body string) {
		r := httptest.NewRequest(http.MethodPost, conn.Path(), strings.NewReader(body))
		w := httptest.NewRecorder()
		conn.ServeHTTP(w, r)
		resp, _ := web.DecodeResponse(w.Body)
		for _, m := range resp.Responses {
			fmt.Print(m.Text)
			for _, b := range m.Buttons {
				fmt.Printf(" [%s %s→%s]", b.Type, b.Title, b.Payload)
			}
			fmt.Println()
		}
	}
	send(`{"query":"When are you open?","userId":"u1","locale":"en-US"}`)
	send(`{"payload":"no","userId":"u1"}`)
	// Output:
	// Welcome to the Parole demo line.
	// You can ask for our opening hours, book an appointment, or talk to an operator. What would you like? [quick_reply Opening hours→hours] [quick_reply Book an appointment→book]
	// We are open Monday to Friday, from 9 am to 6 pm.
	// Can I help you with anything else? [quick_reply Yes→yes] [quick_reply No→no]
	// Thank you for calling. Goodbye!
}

func ExampleRender() {
	msgs, meta := web.Render(dialog.Reply{
		Messages: []dialog.Message{
			{Text: "Here is our shop.", Choices: []dialog.Choice{{Title: "Map", URL: "https://example.com/map"}}},
			{Attachment: &dialog.Attachment{URL: "https://example.com/shop.jpg", Name: "The shop", ContentType: "image/jpeg"}},
		},
		Hangup: true,
	}, "en")
	fmt.Println(msgs[0].Text, msgs[0].Buttons[0].Type, msgs[0].Buttons[0].URL)
	fmt.Println(msgs[1].Image.Title, msgs[1].Image.File.Type)
	fmt.Println(meta)
	// Output:
	// Here is our shop. web_url https://example.com/map
	// The shop image
	// map[end:true]
}

func ExampleVerifyJWT() {
	secret := []byte("site secret")
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	token, _ := web.SignJWT(web.Claims{Subject: "customer-42", ExpiresAt: now.Add(time.Hour).Unix()}, secret)
	claims, err := web.VerifyJWT(token, secret, now)
	fmt.Println(claims.Subject, err)
	_, err = web.VerifyJWT(token, secret, now.Add(2*time.Hour))
	fmt.Println(err)
	// Output:
	// customer-42 <nil>
	// web: unauthorized: JWT expired at 2026-03-02T11:00:00Z
}

// Push sends a proactive message to a user's event stream.
func ExampleConnector_Push() {
	conn, _ := web.New(echo{}, web.Config{})
	defer conn.Close()
	srv := httptest.NewServer(conn)
	defer srv.Close()

	// Pushed before the user connects: kept and replayed on connection.
	_ = conn.Push(context.Background(), "u1", dialog.Say("Your appointment is tomorrow at 10."))
	resp, err := http.Get(srv.URL + "/io/web/sse?userId=u1")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 0, 512)
	for !strings.Contains(string(buf), "tomorrow") {
		p := make([]byte, 256)
		n, err := resp.Body.Read(p)
		buf = append(buf, p[:n]...)
		if err == io.EOF {
			break
		}
	}
	for _, line := range strings.Split(string(buf), "\n") {
		if strings.HasPrefix(line, "event:") {
			fmt.Println(line)
		}
	}
	// Output:
	// event: ping
	// event: message
}

type echo struct{}

func (echo) Handle(_ context.Context, _ runner.Session, ev dialog.Event) (dialog.Reply, error) {
	return dialog.Say(ev.Text), nil
}
