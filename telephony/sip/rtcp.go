package sip

import (
	"net/netip"
	"time"

	"github.com/pion/rtcp"

	"github.com/parole-voice/parole/media/jitter"
)

// Stats is a snapshot of a call's media counters.
type Stats struct {
	// PacketsReceived and PacketsSent count RTP packets, audio and
	// telephone-events.
	PacketsReceived, PacketsSent int64
	// LateFrames counts the frames Send put on the wire more than 10 ms
	// after their 20 ms slot (the scheduler ran late).
	LateFrames int64
	// RTCPSent and RTCPReceived count compound RTCP packets.
	RTCPSent, RTCPReceived int64
	// Reception holds the RFC 3550 reception statistics of the caller's
	// audio stream (loss, jitter) and the jitter buffer's counters.
	Reception jitter.Stats
	// Remote is the caller's last RTCP report block about parole's
	// stream; HaveRemote tells whether one came.
	Remote     rtcp.ReceptionReport
	HaveRemote bool
}

// Stats returns the call's media counters.
func (c *Call) Stats() Stats {
	s := Stats{
		PacketsReceived: c.received.Load(), PacketsSent: c.sent.Load(), LateFrames: c.late.Load(),
		RTCPSent: c.rtcpSent.Load(), RTCPReceived: c.rtcpRecv.Load(),
	}
	c.mu.Lock()
	s.Reception = c.jb.Stats()
	c.mu.Unlock()
	if r := c.remoteReport.Load(); r != nil {
		s.Remote, s.HaveRemote = *r, true
	}
	return s
}

// ntpTime converts t to the 64-bit NTP format of RTCP (RFC 3550 §4).
func ntpTime(t time.Time) uint64 {
	const ntpEpochOffset = 2208988800 // 1900-01-01 to 1970-01-01, in seconds
	sec := uint64(t.Unix()) + ntpEpochOffset
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	return sec<<32 | frac
}

// report builds the caller-facing report of now: a sender report once
// parole sent RTP, else a receiver report, with one reception report
// block on the caller's audio once it flows, and the SDES CNAME that every
// compound packet carries (RFC 3550 §6.1).
func (c *Call) report(now time.Time) []rtcp.Packet {
	var blocks []rtcp.ReceptionReport
	c.mu.Lock()
	if c.jb.Stats().Popped > 0 || c.jb.Stats().Pushed > 0 {
		r := c.jb.ReceptionReport(now)
		blocks = []rtcp.ReceptionReport{{
			SSRC: r.SSRC, FractionLost: r.FractionLost, TotalLost: r.TotalLost,
			LastSequenceNumber: r.LastSequenceNumber, Jitter: r.Jitter,
			LastSenderReport: r.LastSenderReport, Delay: r.Delay,
		}}
	}
	c.mu.Unlock()
	var first rtcp.Packet
	if sent := c.sent.Load(); sent > 0 {
		at := time.Unix(0, c.clockAt.Load())
		rtpTime := c.clockTS.Load() + uint32(int64(now.Sub(at))*int64(c.clock)/int64(time.Second))
		first = &rtcp.SenderReport{
			SSRC: c.ssrc, NTPTime: ntpTime(now), RTPTime: rtpTime,
			PacketCount: uint32(sent), OctetCount: uint32(c.octets.Load()), Reports: blocks,
		}
	} else {
		first = &rtcp.ReceiverReport{SSRC: c.ssrc, Reports: blocks}
	}
	return []rtcp.Packet{first, rtcp.NewCNAMESourceDescription(c.ssrc, c.cname)}
}

// sendReport sends the periodic RTCP report.
func (c *Call) sendReport(now time.Time) { c.sendRTCP(c.report(now)) }

// sendBye sends the last report with an RTCP BYE for parole's source.
func (c *Call) sendBye() {
	c.sendRTCP(append(c.report(time.Now()), &rtcp.Goodbye{Sources: []uint32{c.ssrc}, Reason: "hangup"}))
}

func (c *Call) sendRTCP(pkts []rtcp.Packet) {
	b, err := rtcp.Marshal(pkts)
	if err != nil {
		return
	}
	conn := c.rtcpConn
	if conn == nil {
		conn = c.conn
	}
	if _, err := conn.WriteToUDPAddrPort(b, *c.rtcpTo.Load()); err == nil {
		c.rtcpSent.Add(1)
	}
}

// handleRTCP takes a compound RTCP packet from src: a sender report feeds
// the round-trip fields of our next reception report, a report block
// about our stream is kept for [Call.Stats]. Malformed packets are dropped.
func (c *Call) handleRTCP(b []byte, src netip.AddrPort, now time.Time) {
	pkts, err := rtcp.Unmarshal(b)
	if err != nil {
		return
	}
	if from := netip.AddrPortFrom(src.Addr().Unmap(), src.Port()); *c.rtcpTo.Load() != from {
		c.rtcpTo.Store(&from) // symmetric RTCP
	}
	c.rtcpRecv.Add(1)
	c.lastRx.Store(now.UnixNano())
	for _, p := range pkts {
		var blocks []rtcp.ReceptionReport
		switch p := p.(type) {
		case *rtcp.SenderReport:
			c.mu.Lock()
			c.jb.NoteSenderReport(p.NTPTime, now)
			c.mu.Unlock()
			blocks = p.Reports
		case *rtcp.ReceiverReport:
			blocks = p.Reports
		}
		for i := range blocks {
			if blocks[i].SSRC == c.ssrc {
				r := blocks[i]
				c.remoteReport.Store(&r)
			}
		}
	}
}
