// Package stt measures parole's speech recognizers on real telephone
// prompts (the Asterisk core sounds) and on synthetic speech of the demo
// call flow (espeak-ng).
//
//	go test -run TestReport -v ./benchmarks/stt/
package stt
