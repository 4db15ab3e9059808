package flow

import (
	_ "embed"
	"fmt"
)

// DemoYAML is the demo call flow embedded in parole: a small customer
// service line in English and French (opening hours, booking an
// appointment with a date and a phone number, transfer to an operator).
//
//go:embed demo.yaml
var DemoYAML []byte

// Demo returns the parsed demo flow.
func Demo() (*Flow, error) {
	f, err := Parse("demo.yaml", DemoYAML, nil)
	if err != nil {
		return nil, fmt.Errorf("embedded demo flow: %w", err)
	}
	return f, nil
}
