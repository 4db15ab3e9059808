package sip

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parole-voice/parole/media"
	"github.com/parole-voice/parole/media/resample"
)

// referWait bounds the wait for the final NOTIFY of a REFER.
const referWait = 32 * time.Second

// Transfer hands the call to target (a SIP URI, a tel: URI or a number,
// which goes to the caller's host). Without bridge it sends REFER
// (RFC 3515) with Refer-To: target and follows the NOTIFY progress
// (message/sipfrag): a final 2xx ends the call with BYE and returns nil, a
// failure returns an error wrapping [ErrTransferFailed]. When the peer
// refuses the REFER itself (405, 420, 489, 501, 603), or with bridge, the
// leg calls the target ([Server.Dial]) and relays the audio both ways
// until either side hangs up; Transfer then returns nil once both legs
// are down. Recv must not be called by anyone else meanwhile (the voice
// session calls Transfer from its Recv loop).
func (c *Call) Transfer(ctx context.Context, target string, bridge bool) error {
	if c.srv == nil || c.do == nil {
		return fmt.Errorf("sip: transfer to %s: %w", target, errUnsupported())
	}
	if err := c.ended(); err != nil {
		return err
	}
	uri, err := parseTarget(target, c.peer.HostPort())
	if err != nil {
		return err
	}
	if !bridge {
		err := c.refer(ctx, uri)
		if err == nil {
			c.srv.log.Info("sip: call transferred", "call", c.info.ID, "to", uri.String())
			hctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return c.Hangup(hctx)
		}
		if !errors.Is(err, errReferRefused) {
			return err
		}
		c.srv.log.Info("sip: REFER refused, bridging", "call", c.info.ID, "err", err)
	}
	return c.bridge(ctx, uri)
}

// refer sends REFER and waits for the outcome.
func (c *Call) refer(ctx context.Context, uri sip.Uri) error {
	c.mu.Lock()
	c.notify = make(chan int, 8)
	notify := c.notify
	c.mu.Unlock()
	req := sip.NewRequest(sip.REFER, c.peer)
	req.AppendHeader(sip.NewHeader("Refer-To", "<"+uri.String()+">"))
	req.AppendHeader(sip.NewHeader("Referred-By", "<"+c.srv.contact.Address.String()+">"))
	res, err := c.do(ctx, req)
	if err != nil {
		return fmt.Errorf("%w: REFER: %w", ErrTransferFailed, err)
	}
	switch code := res.StatusCode; {
	case code == 202 || code == 200:
	case code == 405 || code == 420 || code == 489 || code == 501 || code == 603:
		return fmt.Errorf("%w: %d %s", errReferRefused, code, res.Reason)
	default:
		return fmt.Errorf("%w: REFER answered %d %s", ErrTransferFailed, code, res.Reason)
	}
	t := time.NewTimer(referWait)
	defer t.Stop()
	for {
		select {
		case code := <-notify:
			switch {
			case code < 200:
				continue
			case code < 300:
				return nil
			default:
				return fmt.Errorf("%w: the target answered %d", ErrTransferFailed, code)
			}
		case <-c.byeDone: // the transferee left for the target
			return nil
		case <-t.C:
			return fmt.Errorf("%w: no final NOTIFY in %v", ErrTransferFailed, referWait)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// ParseSipfrag reads the status code of a message/sipfrag body's status
// line ("SIP/2.0 200 OK", RFC 3420).
func ParseSipfrag(body []byte) (int, error) {
	line, _, _ := strings.Cut(string(body), "\n")
	f := strings.Fields(line)
	if len(f) < 2 || !strings.HasPrefix(strings.ToUpper(f[0]), "SIP/") {
		return 0, fmt.Errorf("sip: sipfrag %q has no status line", line)
	}
	code, err := strconv.Atoi(f[1])
	if err != nil || code < 100 || code > 699 {
		return 0, fmt.Errorf("sip: sipfrag status %q", f[1])
	}
	return code, nil
}

// onNotify takes the NOTIFY progress of a REFER.
func (s *Server) onNotify(req *sip.Request, tx sip.ServerTransaction) {
	c := s.lookup(req)
	if c == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		return
	}
	ev := ""
	if h := req.GetHeader("Event"); h != nil {
		ev, _, _ = strings.Cut(strings.TrimSpace(h.Value()), ";")
	}
	if !strings.EqualFold(ev, "refer") {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 489, "Bad Event", nil))
		return
	}
	code, err := ParseSipfrag(req.Body())
	if err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Bad Request", nil))
		return
	}
	_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
	c.mu.Lock()
	ch := c.notify
	c.mu.Unlock()
	if ch != nil {
		select {
		case ch <- code:
		default:
		}
	}
}

// bridge calls uri and relays audio between the two legs until one ends.
func (c *Call) bridge(ctx context.Context, uri sip.Uri) error {
	b, err := c.srv.Dial(ctx, uri.String(), DialOptions{})
	if err != nil {
		return fmt.Errorf("sip: bridge to %s: %w", uri.String(), err)
	}
	c.srv.log.Info("sip: call bridged", "call", c.info.ID, "to", uri.String(), "leg", b.info.ID)
	var wg sync.WaitGroup
	first := make(chan struct{}, 2)
	pipe := func(from, to *Call) {
		defer wg.Done()
		defer func() { first <- struct{}{} }()
		var rs *resample.Resampler // legs on different rates (G.722 to G.711 …)
		out := media.Frame{Rate: to.pcmRate, Samples: make([]int16, 0, to.frameN*2)}
		if from.pcmRate != to.pcmRate {
			var err error
			if rs, err = resample.New(from.pcmRate, to.pcmRate, resample.Medium); err != nil {
				return
			}
		}
		for {
			in, err := from.Recv(ctx)
			if err != nil {
				return
			}
			if in.Frame != nil {
				f := in.Frame
				if rs != nil {
					out.Samples = rs.Process(out.Samples[:0], f.Samples)
					out.Time = f.Time
					f = &out
				}
				if len(f.Samples) > 0 && to.Send(ctx, f) != nil {
					return
				}
			} else if in.Digit != 0 && to.dtmfTx != nil {
				if to.SendDTMF(ctx, string(in.Digit)) != nil {
					return
				}
			}
		}
	}
	wg.Add(2)
	go pipe(c, b)
	go pipe(b, c)
	<-first
	hctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	errB := b.Hangup(hctx)
	errA := c.Hangup(hctx)
	wg.Wait()
	return errors.Join(errA, errB)
}
