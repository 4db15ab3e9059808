package live

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parole-voice/parole/telephony/session"
)

// BenchmarkPublish measures what a call pays per event it reports (a
// final transcript through the CallObserver: apply to the conversation,
// number, encode once, queue for every subscriber) with 0, 10 and 100
// subscribers draining their queues.
func BenchmarkPublish(b *testing.B) {
	for _, n := range []int{0, 10, 100} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			h, err := New(Config{Token: "t", MaxSubscribers: n + 1, SubscriberBuffer: 1024})
			if err != nil {
				b.Fatal(err)
			}
			defer h.Close()
			var wg sync.WaitGroup
			var mu sync.Mutex
			delivered, lagged := 0, 0
			for range n {
				s, _, err := h.Subscribe()
				if err != nil {
					b.Fatal(err)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					got, lag := 0, 0
					for {
						select {
						case <-s.Updates():
							got++
						case <-s.Lagged():
							lag++
							s.Resync()
						case <-s.Done():
							mu.Lock()
							delivered += got
							lagged += lag
							mu.Unlock()
							return
						}
					}
				}()
			}
			obs := h.CallObserver(sipInfo)
			obs.Observe(session.Event{Kind: session.CallStarted})
			ev := session.Event{Kind: session.Final, Turn: 1, Text: "I would like to book an appointment", Confidence: 0.9, At: 3 * time.Second}
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for b.Loop() {
				obs.Observe(ev)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			h.Close()
			wg.Wait()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
			if n > 0 {
				b.ReportMetric(float64(delivered)/float64(b.N*n), "delivered/sent")
				b.ReportMetric(float64(lagged), "resyncs")
			}
		})
	}
}
