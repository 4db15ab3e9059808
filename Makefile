# parole: the two set-up commands of the README are `make run` and `make test`.
# Both install the Debian packages they need when missing (apt-get, as root or
# through sudo) and fetch Go modules through the module proxy.

GO          ?= go
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
BIN         ?= bin/parole
ARGS        ?=

# Needed to build and run parole serve (cgo codecs).
RUN_DEBS  = gcc pkg-config libopus-dev espeak-ng libespeak-ng-dev \
            pocketsphinx-en-us libpocketsphinx-dev libsphinxbase-dev
# Needed by the tests: reference codecs and resamplers, the speech corpus,
# protocol peers and stores the tests run against. asterisk-core-sounds-en
# ships the prompt transcripts and the sounds/en link to the -wav prompts.
TEST_DEBS = $(RUN_DEBS) libspeexdsp-dev libsoxr-dev ffmpeg sox espeak-ng \
            asterisk-core-sounds-en-wav asterisk-core-sounds-en \
            sip-tester tshark redis-server python3-num2words chromium \
            valgrind openssl baresip-core

.PHONY: run build test vet lint bench bench-load fuzz deps-run deps-test clean

run: build
	./$(BIN) serve $(ARGS)

build: deps-run
	$(GO) build -o $(BIN) ./cmd/parole

test: deps-test vet lint
	$(GO) test -race -timeout 20m ./...

vet:
	$(GO) vet ./...
	$(GO) vet -tags cgo_refs ./benchmarks/...

lint:
	$(GO) run $(STATICCHECK) ./...

# Benchmarks of the media core, the side-by-side resampler comparison and
# dialog turns per second on one core.
bench: deps-test
	$(GO) test -run '^$$' -bench . -benchmem ./media/...
	$(GO) test -tags cgo_refs -run TestCompare -bench . -benchmem -v ./benchmarks/resample/
	$(GO) test -run '^$$' -bench Turn -cpu 1 -benchmem ./dialog/runner/
	$(GO) test -run '^$$' -bench Frame -benchmem ./telephony/sip/ ./telephony/webrtc/
	$(GO) test -run '^$$' -bench . -benchmem ./telephony/stream/...
	$(GO) test -run '^$$' -bench . -benchmem ./stt/google/ ./stt/nuance/ ./stt/allomedia/ ./tts/google/ ./tts/nuance/ ./tts/voxygen/ ./stt/fallback/ ./tts/fallback/
	$(GO) test -run '^$$' -bench Turn -benchmem ./connectors/...
	$(GO) test -run '^$$' -bench VoiceToVoice -benchtime 1x ./telephony/webrtc/

# The SIP load test (sipp places 100, 250 and 500 concurrent calls): about
# 5 minutes, best on an otherwise idle machine.
bench-load: deps-test
	PAROLE_SIPLOAD=1 $(GO) test -run TestLoad -v -timeout 30m ./benchmarks/sipload/

deps-run:
	@scripts/ensure-debs.sh $(RUN_DEBS)

deps-test:
	@scripts/ensure-debs.sh $(TEST_DEBS)

clean:
	rm -rf bin
