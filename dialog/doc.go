// Package dialog is parole's shared dialog core: the types every channel
// speaks and the [Bot] that answers them.
//
// A channel — a phone call's voice session, a browser call, the web chat, a
// Teams or Alexa connector — turns what the user did into an [Event] (the
// conversation started, they said or typed some text, pressed digits, picked
// a button, said nothing, said something the bot could not use, hung up,
// sent a file) and hands it to a [Bot] together with the [Conversation] it
// belongs to. The bot answers with a [Reply]: messages to say or show (text,
// SSML, choices, cards, attachments, audio) followed by at most one action
// (gather the next input with what to expect, record, transfer, hang up).
//
// Channels speak only these types, so one bot answers everywhere: a voice
// channel speaks a message's SSML (or its text) and uses a gather's phrase
// hints to steer its recognizer; a text channel shows the text and renders
// choices as its platform's buttons.
//
// Sub-packages:
//
//   - dialog/intent: built-in intent matching, spoken numbers and yes/no in
//     English and French, and the pluggable NLU interface (Rasa over HTTP)
package dialog
