package jitter

import "time"

// RFC 3550 Appendix A.1 constants.
const (
	seqMod        = 1 << 16
	maxDropout    = 3000
	maxMisorder   = 100
	minSequential = 2
)

// rfcSource is the per-source state of RFC 3550 Appendix A.1 (sequence
// validation), A.3 (loss) and A.8 (interarrival jitter), kept as the RFC's
// reference code keeps it so the figures can be compared with any other
// implementation.
type rfcSource struct {
	maxSeq        uint16 // highest seq. number seen
	cycles        uint32 // shifted count of seq. number cycles
	baseSeq       uint32 // base seq number
	badSeq        uint32 // last 'bad' seq number + 1
	probation     int    // sequ. packets till source is valid
	received      uint32 // packets received
	expectedPrior uint32 // packet expected at last interval
	receivedPrior uint32 // packet received at last interval
	transit       uint32 // relative trans time for prev pkt
	jitter        uint32 // estimated jitter, scaled by 16 (A.8)
	haveTransit   bool
}

func (s *rfcSource) initSeq(seq uint16) {
	s.baseSeq = uint32(seq)
	s.maxSeq = seq
	s.badSeq = seqMod + 1 // so seq == badSeq is false
	s.cycles = 0
	s.received = 0
	s.receivedPrior = 0
	s.expectedPrior = 0
}

// start begins a new source with its first packet (A.1: the source is on
// probation until minSequential packets in sequence arrived).
func (s *rfcSource) start(seq uint16) {
	*s = rfcSource{}
	s.initSeq(seq)
	s.maxSeq = seq - 1
	s.probation = minSequential
}

// updateSeq is update_seq of RFC 3550 A.1. It reports whether the packet
// counts as valid for the statistics.
func (s *rfcSource) updateSeq(seq uint16) bool {
	udelta := seq - s.maxSeq
	if s.probation > 0 {
		if seq == s.maxSeq+1 {
			s.probation--
			s.maxSeq = seq
			if s.probation == 0 {
				s.initSeq(seq)
				s.received++
				return true
			}
		} else {
			s.probation = minSequential - 1
			s.maxSeq = seq
		}
		return false
	} else if udelta < maxDropout {
		if seq < s.maxSeq {
			s.cycles += seqMod
		}
		s.maxSeq = seq
	} else if udelta <= seqMod-maxMisorder {
		if uint32(seq) == s.badSeq {
			s.initSeq(seq)
		} else {
			s.badSeq = (uint32(seq) + 1) & (seqMod - 1)
			return false
		}
	}
	// else: duplicate or reordered packet
	s.received++
	return true
}

// updateJitter is the A.8 estimator: arrival is the packet's arrival time in
// RTP timestamp units, ts its RTP timestamp.
func (s *rfcSource) updateJitter(arrival, ts uint32) {
	transit := arrival - ts
	if !s.haveTransit {
		s.transit = transit
		s.haveTransit = true
		return
	}
	d := int32(transit - s.transit)
	s.transit = transit
	if d < 0 {
		d = -d
	}
	s.jitter += uint32(d) - ((s.jitter + 8) >> 4)
}

func (s *rfcSource) extendedMax() uint32 { return s.cycles + uint32(s.maxSeq) }

func (s *rfcSource) expected() uint32 { return s.extendedMax() - s.baseSeq + 1 }

func (s *rfcSource) lost() int64 {
	if s.probation > 0 {
		return 0
	}
	return int64(s.expected()) - int64(s.received)
}

// Stats is a snapshot of a [Buffer]'s counters.
//
// The first group follows RFC 3550 (Appendix A.1, A.3, A.8) for the current
// source and fills an RTCP reception report; it restarts when the SSRC
// changes. The second group describes playout and is cumulative over the
// Buffer's life.
type Stats struct {
	// SSRC is the synchronization source of the current stream.
	SSRC uint32
	// Received counts the packets of the current source that passed the
	// RFC 3550 A.1 validation, duplicates and late packets included (so
	// Lost may be negative, as the RFC allows).
	Received uint32
	// Expected is extended highest sequence number − base + 1 (A.3).
	Expected uint32
	// Lost is the cumulative number of packets lost, Expected − Received.
	Lost int64
	// ExtendedHighestSeq is the highest sequence number received, with the
	// count of 65536 cycles in the upper 16 bits.
	ExtendedHighestSeq uint32
	// Jitter is the RFC 3550 interarrival jitter in timestamp units.
	Jitter uint32
	// JitterDuration is Jitter as a duration at the clock rate.
	JitterDuration time.Duration

	// Pushed counts every packet handed to Push, accepted or not.
	Pushed uint64
	// Popped counts the packets returned by Pop.
	Popped uint64
	// Concealed counts the Lost results returned by Pop.
	Concealed uint64
	// ConcealedDuration is the audio the Lost results covered.
	ConcealedDuration time.Duration
	// Missing counts sequence numbers skipped in playout: packets that
	// never arrived or arrived late.
	Missing uint64
	// Late counts packets dropped because their playout time had passed.
	Late uint64
	// Duplicates counts packets dropped as copies of a buffered or played
	// packet.
	Duplicates uint64
	// Dropped counts packets discarded on purpose to shrink the delay of a
	// continuous stream (see [Buffer]).
	Dropped uint64
	// Discarded counts buffered packets flushed by a resynchronisation or
	// an SSRC change.
	Discarded uint64
	// Rejected counts packets refused as malformed or too large.
	Rejected uint64
	// Jumps counts packets held back because their sequence number jumped
	// beyond the buffer; Resyncs counts the restarts that followed and the
	// timestamp discontinuities.
	Jumps, Resyncs uint64
	// SSRCChanges counts the times a new SSRC replaced the stream.
	SSRCChanges uint64

	// Delay is the playout delay currently applied above the fastest
	// recent packet; TargetDelay is what the jitter estimate asks for.
	// Both are clamped to [Config.MinDelay, Config.MaxDelay] when set.
	Delay, TargetDelay time.Duration
	// Queued is the number of packets waiting in the buffer.
	Queued int
}

// ReceptionReport holds the fields of an RTCP reception report block
// (RFC 3550 §6.4.1), named like pion/rtcp's ReceptionReport so a caller can
// copy them over.
type ReceptionReport struct {
	SSRC               uint32
	FractionLost       uint8
	TotalLost          uint32 // 24-bit two's complement, clamped
	LastSequenceNumber uint32
	Jitter             uint32
	LastSenderReport   uint32
	Delay              uint32 // since the last SR, in 1/65536 s
}
