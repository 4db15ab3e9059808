// Package nuancepb holds the Go code generated from parole's copies of the
// Nuance Mix gRPC APIs: asr (nuance.asr.v1, ASRaaS Recognizer) and tts
// (nuance.tts.v1, TTSaaS Synthesizer). The .proto files were written from
// Nuance's published API reference; where a field number could not be read
// from it, the file says so. The generated code is committed, so building
// parole needs no protoc; regenerate with `go generate ./internal/nuancepb`
// (Debian protobuf-compiler, protoc-gen-go v1.36.12, protoc-gen-go-grpc
// v1.6.0).
package nuancepb

//go:generate protoc -I . --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative asr/recognizer.proto asr/resource.proto asr/result.proto tts/synthesizer.proto
