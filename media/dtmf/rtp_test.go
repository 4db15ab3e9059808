package dtmf

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/pion/rtp"

	"github.com/parole-voice/parole/internal/testutil"
)

// captured is one RTP packet read from a pcap file.
type captured struct {
	at  time.Time
	pkt rtp.Packet
}

// pcapRecord is one packet of a classic pcap file.
type pcapRecord struct {
	at   time.Time
	data []byte
}

// readPcap reads a classic (libpcap) capture file. It is written here
// because gopacket's pcapgo needs golang.org/x/net, which is not in go.mod.
func readPcap(t testing.TB, path string) (layers.LinkType, []pcapRecord) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 24 {
		t.Fatalf("%s: short pcap header", path)
	}
	var bo binary.ByteOrder
	nano := false
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4:
		bo = binary.LittleEndian
	case 0xa1b23c4d:
		bo, nano = binary.LittleEndian, true
	default:
		switch binary.BigEndian.Uint32(b) {
		case 0xa1b2c3d4:
			bo = binary.BigEndian
		case 0xa1b23c4d:
			bo, nano = binary.BigEndian, true
		default:
			t.Fatalf("%s: not a pcap file", path)
		}
	}
	lt := layers.LinkType(bo.Uint32(b[20:]))
	var out []pcapRecord
	for p := 24; p+16 <= len(b); {
		sec, frac, n := bo.Uint32(b[p:]), bo.Uint32(b[p+4:]), int(bo.Uint32(b[p+8:]))
		if p+16+n > len(b) {
			t.Fatalf("%s: truncated record", path)
		}
		ns := int64(frac) * 1000
		if nano {
			ns = int64(frac)
		}
		out = append(out, pcapRecord{at: time.Unix(int64(sec), ns), data: b[p+16 : p+16+n]})
		p += 16 + n
	}
	return lt, out
}

// writePcap writes packets of link type lt as a classic pcap file.
func writePcap(t testing.TB, path string, lt layers.LinkType, recs []pcapRecord) {
	t.Helper()
	b := make([]byte, 24)
	binary.LittleEndian.PutUint32(b, 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(b[4:], 2)
	binary.LittleEndian.PutUint16(b[6:], 4)
	binary.LittleEndian.PutUint32(b[16:], 65535)
	binary.LittleEndian.PutUint32(b[20:], uint32(lt))
	for _, r := range recs {
		var h [16]byte
		binary.LittleEndian.PutUint32(h[:], uint32(r.at.Unix()))
		binary.LittleEndian.PutUint32(h[4:], uint32(r.at.Nanosecond()/1000))
		binary.LittleEndian.PutUint32(h[8:], uint32(len(r.data)))
		binary.LittleEndian.PutUint32(h[12:], uint32(len(r.data)))
		b = append(append(b, h[:]...), r.data...)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// readPcapRTP returns the RTP packets (UDP payloads with RTP version 2)
// of a pcap file, decoded with gopacket's layers and pion/rtp, and the UDP
// destination port of the first one.
func readPcapRTP(t testing.TB, path string) ([]captured, int) {
	t.Helper()
	lt, recs := readPcap(t, path)
	var out []captured
	port := 0
	for _, rec := range recs {
		p := gopacket.NewPacket(rec.data, lt, gopacket.Default)
		udp, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
		if !ok || len(udp.Payload) < 12 || udp.Payload[0]>>6 != 2 {
			continue
		}
		var c captured
		if err := c.pkt.Unmarshal(udp.Payload); err != nil {
			continue
		}
		if port == 0 {
			port = int(udp.DstPort)
		}
		c.at = rec.at
		out = append(out, c)
	}
	return out, port
}

// eventPT returns the payload type of the telephone events in a capture:
// the dynamic payload type whose packets all carry a 4-byte payload.
func eventPT(t testing.TB, pkts []captured) uint8 {
	t.Helper()
	cand := map[uint8]bool{}
	for _, c := range pkts {
		pt := c.pkt.PayloadType
		if pt < 96 || pt > 127 {
			continue
		}
		if _, seen := cand[pt]; !seen {
			cand[pt] = true
		}
		if len(c.pkt.Payload) != PayloadSize {
			cand[pt] = false
		}
	}
	var pts []uint8
	for pt, ok := range cand {
		if ok {
			pts = append(pts, pt)
		}
	}
	if len(pts) != 1 {
		t.Fatalf("telephone-event payload type: candidates %v", pts)
	}
	return pts[0]
}

// tshark returns the tab-separated fields tshark's rtpevent dissector gives
// for the packets of a capture, decoding UDP port as RTP.
func tshark(t testing.TB, bin, path string, port int, fields ...string) [][]string {
	t.Helper()
	args := []string{"-r", path, "-d", fmt.Sprintf("udp.port==%d,rtp", port), "-Y", "rtpevent", "-T", "fields"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark %v: %v\n%s", args, err, stderr.String())
	}
	var rows [][]string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "" {
			rows = append(rows, strings.Split(l, "\t"))
		}
	}
	return rows
}

// TestSipTesterCaptures decodes the RFC 2833 captures shipped with sipp:
// each holds one key, named in the file name. When tshark is installed its
// rtpevent dissector must find the same ended event in each (it reads all
// captures at once, concatenated, to start tshark only once).
func TestSipTesterCaptures(t *testing.T) {
	dir := testutil.RequireFile(t, "/usr/share/sip-tester", "sip-tester")
	files, _ := filepath.Glob(filepath.Join(dir, "dtmf_2833_*.pcap"))
	if len(files) != 12 {
		t.Fatalf("found %d dtmf_2833 captures, want 12", len(files))
	}
	tsharkBin, _ := exec.LookPath("tshark")
	if tsharkBin == "" && testutil.InCI() {
		t.Fatal("tshark not found: apt-get install tshark")
	}
	var merged []pcapRecord
	var mergedLT layers.LinkType
	frameFile := map[int]int{} // tshark frame number → file index
	ports := map[int]bool{}
	found := make([]Event, len(files))
	for i, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "dtmf_2833_"), ".pcap")
		want := map[string]string{"pound": "#", "star": "*"}[name]
		if want == "" {
			want = name
		}
		pkts, port := readPcapRTP(t, f)
		ports[port] = true
		pt := eventPT(t, pkts)
		r, err := NewReceiver(ReceiverConfig{PayloadType: pt})
		if err != nil {
			t.Fatal(err)
		}
		var got []Digit
		for _, c := range pkts {
			if got, err = r.ReceiveRTP(got, c.at, &c.pkt); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
		}
		got = r.Flush(got)
		if len(got) != 1 {
			t.Fatalf("%s: %d events %v, want 1", f, len(got), got)
		}
		d := got[0]
		found[i] = d.Event
		if k, _ := d.Event.Digit(); string(k) != want || !d.Ended {
			t.Errorf("%s: got %+v, want key %s ended", f, d, want)
		}
		// The capture's last packets report 2240 ticks (280 ms).
		if d.Ticks != 2240 || d.Duration != 280*time.Millisecond {
			t.Errorf("%s: duration %d ticks %v", f, d.Ticks, d.Duration)
		}
		lt, recs := readPcap(t, f)
		if i > 0 && lt != mergedLT {
			t.Fatalf("%s: link type %v, others %v", f, lt, mergedLT)
		}
		mergedLT = lt
		for j := range recs {
			frameFile[len(merged)+j+1] = i
		}
		merged = append(merged, recs...)
	}
	if tsharkBin == "" {
		t.Log("tshark not installed: cross-check skipped")
		return
	}
	if len(ports) != 1 {
		t.Fatalf("captures use several ports %v", ports)
	}
	var port int
	for p := range ports {
		port = p
	}
	all := filepath.Join(t.TempDir(), "all.pcap")
	writePcap(t, all, mergedLT, merged)
	ends := make([]map[string]bool, len(files))
	for _, row := range tshark(t, tsharkBin, all, port, "frame.number", "rtpevent.event_id", "rtpevent.end_of_event") {
		n, err := strconv.Atoi(row[0])
		if err != nil || len(row) != 3 {
			t.Fatalf("tshark row %q", row)
		}
		i := frameFile[n]
		if ends[i] == nil {
			ends[i] = map[string]bool{}
		}
		if row[2] == "1" {
			ends[i][row[1]] = true
		}
	}
	for i, f := range files {
		if len(ends[i]) != 1 || !ends[i][strconv.Itoa(int(found[i]))] {
			t.Errorf("%s: tshark ended events %v, ours %d", f, ends[i], found[i])
		}
	}
}

// senderPackets returns the packets of one event.
func senderPackets(t testing.TB, cfg SenderConfig, ev Event, ts uint32, d time.Duration) []Packet {
	t.Helper()
	s, err := NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.AppendEvent(nil, ev, ts, d)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSenderSequence(t *testing.T) {
	p := senderPackets(t, SenderConfig{}, Event5, 1000, 200*time.Millisecond)
	// 50 ms updates at 400, 800, 1200, end at 1600 sent three times.
	wantDur := []uint16{400, 800, 1200, 1600, 1600, 1600}
	wantAt := []time.Duration{50, 100, 150, 200, 250, 300}
	if len(p) != len(wantDur) {
		t.Fatalf("%d packets: %+v", len(p), p)
	}
	for i, q := range p {
		if q.Timestamp != 1000 || q.Payload.Event != Event5 || q.Payload.Volume != 10 ||
			q.Marker != (i == 0) || q.Payload.Duration != wantDur[i] || q.At != wantAt[i]*time.Millisecond ||
			q.Payload.End != (i >= 3) || q.Retransmission != (i >= 4) {
			t.Errorf("packet %d: %+v", i, q)
		}
	}
	// 20 ms interval, 16 kHz clock, 45 ms: 320, 640, end 720.
	p = senderPackets(t, SenderConfig{ClockRate: 16000, Interval: 20 * time.Millisecond, Volume: 7}, EventA, 0, 45*time.Millisecond)
	var durs []uint16
	for _, q := range p {
		durs = append(durs, q.Payload.Duration)
	}
	if fmt.Sprint(durs) != "[320 640 720 720 720]" || p[0].Payload.Volume != 7 {
		t.Errorf("16 kHz 20 ms: durations %v volume %d", durs, p[0].Payload.Volume)
	}
}

// TestSenderLongEvent: a 10 s event at 8 kHz (80000 ticks) is sent as a
// 65535-tick segment (no E bit) and a second segment starting 65535 ticks
// later without marker (RFC 4733 §2.5.1.3).
func TestSenderLongEvent(t *testing.T) {
	const ts0 = 0xffff0000 // the second segment's timestamp wraps
	p := senderPackets(t, SenderConfig{}, Event9, ts0, 10*time.Second)
	var segEnd, marks int
	for i, q := range p {
		if q.Marker {
			marks++
		}
		switch q.Timestamp {
		case ts0:
			if q.Payload.End {
				t.Fatalf("packet %d: E bit in the first segment", i)
			}
			if q.Payload.Duration == maxSegment {
				segEnd++
				if q.At != 65535*time.Second/8000 {
					t.Errorf("segment end sent at %v", q.At)
				}
			}
		case ts0 + maxSegment:
		default:
			t.Fatalf("packet %d: timestamp %#x", i, q.Timestamp)
		}
	}
	last := p[len(p)-1]
	if marks != 1 || segEnd != 1 || last.Timestamp != ts0+maxSegment || !last.Payload.End || last.Payload.Duration != 80000-maxSegment {
		t.Fatalf("marks %d segment ends %d last %+v", marks, segEnd, last)
	}
	got := feed(t, p, nil)
	if len(got) != 1 || got[0].Ticks != 80000 || got[0].Timestamp != ts0 || !got[0].Ended || got[0].Duration != 10*time.Second {
		t.Fatalf("receiver: %+v", got)
	}
}

// feed sends packets through a new receiver, in order, numbering them from
// seq0, skipping the indexes in drop, and flushes.
func feed(t testing.TB, p []Packet, drop map[int]bool) []Digit {
	t.Helper()
	r, err := NewReceiver(ReceiverConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var got []Digit
	t0 := time.Unix(0, 0)
	for i, q := range p {
		if drop[i] {
			continue
		}
		got, err = r.Receive(got, t0.Add(q.At), Received{SequenceNumber: uint16(65530 + i), Timestamp: q.Timestamp, Marker: q.Marker, Payload: q.AppendPayload(nil)})
		if err != nil {
			t.Fatal(err)
		}
	}
	return r.Flush(got)
}

func TestSenderReceiverRoundTrip(t *testing.T) {
	s, _ := NewSender(SenderConfig{Interval: 20 * time.Millisecond})
	var all []Packet
	var err error
	ts := uint32(0xffffff00) // wraps during the string
	for i, k := range "0123456789*#ABCD" {
		e, _ := ParseDigit(k)
		n := len(all)
		all, err = s.AppendEvent(all, e, ts, time.Duration(60+10*i)*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		off := time.Duration(i) * 300 * time.Millisecond
		for j := n; j < len(all); j++ {
			all[j].At += off
		}
		ts += 300 * 8
	}
	got := feed(t, all, nil)
	var keys []byte
	for i, d := range got {
		k, _ := d.Event.Digit()
		keys = append(keys, k)
		if !d.Ended || d.Duration != time.Duration(60+10*i)*time.Millisecond {
			t.Errorf("digit %d: %+v", i, d)
		}
	}
	if string(keys) != "0123456789*#ABCD" {
		t.Errorf("got %q", keys)
	}
}

// TestReceiverLoss covers lost, repeated and reordered packets.
func TestReceiverLoss(t *testing.T) {
	p := senderPackets(t, SenderConfig{}, Event3, 5000, 300*time.Millisecond)
	// Packets: durations 400..2400 (indexes 0–5, 5 is the first end) + 2 repeats.
	n := len(p)
	cases := []struct {
		name  string
		drop  map[int]bool
		ticks uint64
		ended bool
	}{
		{"all", nil, 2400, true},
		{"first lost", map[int]bool{0: true}, 2400, true},
		{"first two lost", map[int]bool{0: true, 1: true}, 2400, true},
		{"two end packets lost", map[int]bool{n - 3: true, n - 2: true}, 2400, true},
		{"all end packets lost", map[int]bool{n - 3: true, n - 2: true, n - 1: true}, 2000, false},
		{"only the last repeat", map[int]bool{0: true, 1: true, 2: true, 3: true, 4: true, 5: true, 6: true}, 2400, true},
	}
	for _, c := range cases {
		got := feed(t, p, c.drop)
		if len(got) != 1 || got[0].Event != Event3 || got[0].Ticks != c.ticks || got[0].Ended != c.ended || got[0].Timestamp != 5000 {
			t.Errorf("%s: %+v", c.name, got)
		}
	}

	// Duplicates and late packets: every packet twice, then the whole
	// event again.
	r, _ := NewReceiver(ReceiverConfig{})
	var got []Digit
	now := time.Unix(100, 0)
	for range 2 {
		for _, q := range p {
			for range 2 {
				got, _ = r.Receive(got, now, Received{Timestamp: q.Timestamp, Marker: q.Marker, Payload: q.AppendPayload(nil)})
			}
		}
	}
	if got = r.Flush(got); len(got) != 1 {
		t.Errorf("duplicates: %d events %+v", len(got), got)
	}
}

// TestReceiverEndings: an event whose end packets are lost ends at the next
// event or after the timeout.
func TestReceiverEndings(t *testing.T) {
	r, _ := NewReceiver(ReceiverConfig{Timeout: 200 * time.Millisecond})
	t0 := time.Unix(0, 0)
	upd := func(ev Event, ts uint32, dur uint16, end, marker bool) Received {
		b, _ := Payload{Event: ev, End: end, Duration: dur, Volume: 10}.Append(nil)
		return Received{Timestamp: ts, Marker: marker, Payload: b}
	}
	var got []Digit
	got, _ = r.Receive(got, t0, upd(Event1, 100, 400, false, true))
	if ev, ok := r.Active(); !ok || ev != Event1 {
		t.Fatalf("Active = %v %v", ev, ok)
	}
	got = r.Expire(got, t0.Add(150*time.Millisecond))
	if len(got) != 0 {
		t.Fatalf("expired early: %+v", got)
	}
	// Next event, itself complete in one packet: two events at once.
	got, _ = r.Receive(got, t0.Add(160*time.Millisecond), upd(Event2, 2000, 800, true, true))
	if len(got) != 2 || got[0].Event != Event1 || got[0].Ended || got[0].Ticks != 400 || got[1].Event != Event2 || !got[1].Ended {
		t.Fatalf("next event: %+v", got)
	}
	got = got[:0]
	got, _ = r.Receive(got, t0.Add(300*time.Millisecond), upd(Event4, 5000, 400, false, true))
	got = r.Expire(got, t0.Add(499*time.Millisecond))
	got = r.Expire(got, t0.Add(500*time.Millisecond))
	if len(got) != 1 || got[0].Event != Event4 || got[0].Ended {
		t.Fatalf("timeout: %+v", got)
	}
	// A late packet of the expired event is ignored, and so is an old one.
	got, _ = r.Receive(got[:0], t0.Add(510*time.Millisecond), upd(Event4, 5000, 800, true, false))
	got, _ = r.Receive(got, t0.Add(520*time.Millisecond), upd(Event1, 100, 800, true, false))
	if len(got) != 0 {
		t.Fatalf("late packets reported: %+v", got)
	}
	// Malformed payload.
	if _, err := r.Receive(nil, t0, Received{Payload: []byte{1, 2, 3}}); !errors.Is(err, ErrPayloadSize) {
		t.Fatalf("short payload: %v", err)
	}
}

// TestSenderTshark writes the sender's packets to a pcap (IPv4/UDP/RTP,
// payload type 101) and checks them with tshark's rtpevent dissector.
func TestSenderTshark(t *testing.T) {
	bin := testutil.RequireTool(t, "tshark", "tshark")
	p := senderPackets(t, SenderConfig{Volume: 12}, EventPound, 123456, 180*time.Millisecond)
	path := filepath.Join(t.TempDir(), "sender.pcap")
	var recs []pcapRecord
	t0 := time.Unix(1700000000, 0)
	for i, q := range p {
		rp := rtp.Packet{Header: rtp.Header{Version: 2, Marker: q.Marker, PayloadType: 101, SequenceNumber: uint16(1000 + i), Timestamp: q.Timestamp, SSRC: 0x1234}, Payload: q.AppendPayload(nil)}
		raw, err := rp.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IPv4(10, 0, 0, 1), DstIP: net.IPv4(10, 0, 0, 2)}
		udp := &layers.UDP{SrcPort: 40000, DstPort: 40002}
		if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, udp, gopacket.Payload(raw)); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, pcapRecord{at: t0.Add(q.At), data: buf.Bytes()})
	}
	writePcap(t, path, layers.LinkTypeRaw, recs)
	rows := tshark(t, bin, path, 40002, "rtp.marker", "rtp.timestamp", "rtpevent.event_id", "rtpevent.end_of_event", "rtpevent.volume", "rtpevent.duration")
	var got []string
	for _, r := range rows {
		got = append(got, strings.Join(r, " "))
	}
	// 180 ms at 50 ms: 400, 800, 1200, end 1440 three times.
	want := []string{
		"1 123456 11 0 12 400",
		"0 123456 11 0 12 800",
		"0 123456 11 0 12 1200",
		"0 123456 11 1 12 1440",
		"0 123456 11 1 12 1440",
		"0 123456 11 1 12 1440",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("tshark:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestPayloadCodec(t *testing.T) {
	for _, c := range []struct {
		p Payload
		b []byte
	}{
		{Payload{Event: Event1, Volume: 10, Duration: 0}, []byte{1, 0x0a, 0, 0}},
		{Payload{Event: EventPound, End: true, Volume: 10, Duration: 2240}, []byte{11, 0x8a, 0x08, 0xc0}},
		{Payload{Event: 200, End: true, Reserved: true, Volume: 63, Duration: 0xffff}, []byte{200, 0xff, 0xff, 0xff}},
	} {
		b, err := c.p.Append(nil)
		if err != nil || !bytes.Equal(b, c.b) {
			t.Errorf("%+v: got %x %v, want %x", c.p, b, err, c.b)
		}
		p, err := DecodeEvent(c.b)
		if err != nil || p != c.p {
			t.Errorf("decode %x: %+v %v", c.b, p, err)
		}
	}
	for _, b := range [][]byte{nil, {1}, {1, 2, 3}, {1, 2, 3, 4, 5}} {
		if _, err := DecodeEvent(b); !errors.Is(err, ErrPayloadSize) {
			t.Errorf("decode %x: %v", b, err)
		}
	}
	if _, err := (Payload{Volume: 64}).Append(nil); !errors.Is(err, ErrVolume) {
		t.Errorf("volume 64: %v", err)
	}
	for i, k := range "0123456789*#ABCD" {
		e, err := ParseDigit(k)
		if err != nil || int(e) != i || e.String() != string(k) {
			t.Errorf("%c: %v %v", k, e, err)
		}
	}
	if e, err := ParseDigit('b'); err != nil || e != EventB {
		t.Errorf("lower case b: %v %v", e, err)
	}
	if _, err := ParseDigit('x'); !errors.Is(err, ErrNotDigit) {
		t.Errorf("x: %v", err)
	}
	if EventFlash.String() != "flash" || Event(40).String() != "event-40" {
		t.Errorf("names: %s %s", EventFlash, Event(40))
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []SenderConfig{{ClockRate: 10}, {Interval: -time.Millisecond}, {Volume: 64}, {EndPackets: -1}, {Interval: 10 * time.Second}} {
		if _, err := NewSender(c); err == nil {
			t.Errorf("NewSender(%+v) accepted", c)
		}
	}
	s, _ := NewSender(SenderConfig{})
	for _, d := range []time.Duration{0, -time.Second, 100000 * time.Hour} {
		if _, err := s.AppendEvent(nil, Event1, 0, d); !errors.Is(err, ErrConfig) {
			t.Errorf("duration %v: %v", d, err)
		}
	}
	if _, err := NewReceiver(ReceiverConfig{ClockRate: 1}); !errors.Is(err, ErrConfig) {
		t.Errorf("receiver rate 1: %v", err)
	}
	if _, err := NewDetector(DetectorConfig{Rate: 4000}); !errors.Is(err, ErrConfig) {
		t.Errorf("detector 4 kHz: %v", err)
	}
	if _, err := NewGenerator(ToneConfig{Level: 3}); !errors.Is(err, ErrConfig) {
		t.Errorf("generator +3 dBm0: %v", err)
	}
	g, _ := NewGenerator(ToneConfig{})
	if _, err := g.AppendTone(nil, EventFlash, time.Second); !errors.Is(err, ErrNotDigit) {
		t.Errorf("flash tone: %v", err)
	}
	if _, err := g.AppendDigits(nil, "12x"); !errors.Is(err, ErrNotDigit) {
		t.Errorf("digits 12x: %v", err)
	}
}
