// Package dtmf handles DTMF and other telephone events, both out of band as
// RFC 4733 RTP telephone-event packets and in band as dual-tone audio.
//
// Out of band:
//
//   - [DecodeEvent] and [Payload.Append] read and write the 4-byte
//     telephone-event payload (event, E and R bits, volume, duration).
//   - A [Sender] produces the packet sequence of one event as RFC 4733
//     §2.5 prescribes: marker bit on the first packet, one RTP timestamp
//     per event, growing duration, the final packet sent three times, and
//     events longer than 65535 clock ticks split into segments. It returns
//     payloads, marker bits, timestamps and send times; the RTP leg sends
//     them.
//   - A [Receiver] turns the received packets back into events, each
//     reported once, despite repeated, lost or late packets, long-event
//     segments and timestamp wrap-around.
//
// In band:
//
//   - A [Generator] makes the tones (ITU-T Q.23 frequencies, level in dBm0
//     per tone, twist, duration, pause) at any rate from 8 to 48 kHz.
//   - A [Detector] finds keys in a stream of 20 ms frames with Goertzel
//     filters on the 8 DTMF frequencies and their second harmonics, within
//     the ITU-T Q.24 limits (duration, twist, frequency deviation, level)
//     and with speech rejection. It runs at 8 or 16 kHz (or any rate from 8
//     to 48 kHz: the windows keep their length in time).
//
// The tests check the receiver on the RFC 2833 captures shipped with sipp
// (Debian sip-tester), the sender's packets with Wireshark's rtpevent
// dissector (tshark), and the detector on tones made by sox at the limits of
// each requirement and on the Asterisk recorded prompts for talk-off.
package dtmf
