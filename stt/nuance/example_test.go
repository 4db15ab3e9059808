package nuance_test

import (
	"fmt"

	"github.com/parole-voice/parole/stt"
	"github.com/parole-voice/parole/stt/nuance"
)

// The inline grammar sent for a yes/no question: one rule per phrase, its
// value as semantic tag.
func ExampleGrXML() {
	g, _ := nuance.GrXML("en-US", &stt.Grammar{Rules: []stt.Rule{
		{Phrase: "yes please", Value: "yes"},
		{Phrase: "no thanks", Value: "no"},
	}})
	fmt.Print(g)
	// Output:
	// <?xml version="1.0" encoding="UTF-8"?>
	// <grammar xmlns="http://www.w3.org/2001/06/grammar" version="1.0" mode="voice" tag-format="semantics/1.0-literals" root="parole" xml:lang="en-US">
	//  <rule id="parole" scope="public">
	//     <one-of>
	//       <item><ruleref uri="#p0"/></item>
	//       <item><ruleref uri="#p1"/></item>
	//     </one-of>
	//  </rule>
	//  <rule id="p0" scope="private">yes please<tag>yes</tag></rule>
	//  <rule id="p1" scope="private">no thanks<tag>no</tag></rule>
	// </grammar>
}

// The inline wordset sent for the phrase hints.
func ExampleWordset() {
	ws, _ := nuance.Wordset(nuance.DefaultHintEntity, []string{"billing", "technical  support", "billing"})
	fmt.Println(ws)
	// Output: {"PAROLE_HINTS":[{"literal":"billing"},{"literal":"technical support"}]}
}

// A recognizer on Nuance's hosted service; streams are opened per gather.
func ExampleNew() {
	r, err := nuance.New(nuance.Config{
		ClientID:     "appID:NMDPTRIAL_me:geo:us:clientName:default",
		ClientSecret: "secret",
		Encoding:     nuance.ULaw,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	fmt.Println("ready")
	// Output: ready
}
