package tls12

import (
	"fmt"
	"time"
)

// Direction says whether a traced message was sent or received.
type Direction uint8

// Directions of a TraceEvent.
const (
	Sent Direction = iota + 1
	Received
)

func (d Direction) String() string {
	if d == Sent {
		return "sent"
	}
	return "received"
}

// TraceEvent describes one handshake message, ChangeCipherSpec or alert.
type TraceEvent struct {
	Time      time.Time
	Direction Direction
	// Step names the message: "ClientHello", "ServerKeyExchange",
	// "ChangeCipherSpec", "Alert", ...
	Step string
	// ContentType is the record type: 20 change_cipher_spec, 21 alert,
	// 22 handshake.
	ContentType uint8
	// HandshakeType is the handshake message type when ContentType is 22.
	HandshakeType uint8
	// Length is the handshake body length, or the record payload length.
	Length int
	// Summary is a one-line reading of the message's fields.
	Summary string
	// Data is the message as on the wire once decrypted, header included.
	Data []byte
}

func (c *Conn) trace(e TraceEvent) {
	if c.config.Trace == nil {
		return
	}
	e.Time = c.config.now()
	c.config.Trace(e)
}

// traceMessage reports a handshake message; m is nil when it did not parse.
func (c *Conn) traceMessage(dir Direction, raw []byte, m handshakeMessage) {
	if c.config.Trace == nil {
		return
	}
	// A sent message is summarised from its wire form, which is what the
	// peer sees; parsing also fills in the list of extensions.
	if dir == Sent {
		if pm, err := parseMessage(raw); err == nil {
			m = pm
		}
	}
	summary := "unparsable message"
	if m != nil {
		summary = m.summary()
	}
	c.trace(TraceEvent{
		Direction:     dir,
		Step:          handshakeType(raw[0]).String(),
		ContentType:   uint8(recordHandshake),
		HandshakeType: raw[0],
		Length:        len(raw) - 4,
		Summary:       summary,
		Data:          append([]byte(nil), raw...),
	})
}

func (c *Conn) traceAlert(dir Direction, level AlertLevel, desc AlertDescription) {
	c.trace(TraceEvent{
		Direction:   dir,
		Step:        "Alert",
		ContentType: uint8(recordAlert),
		Length:      2,
		Summary:     fmt.Sprintf("%s %s", level, desc),
		Data:        []byte{byte(level), byte(desc)},
	})
}

func (c *Conn) traceChangeCipherSpec(dir Direction) {
	c.trace(TraceEvent{
		Direction:   dir,
		Step:        "ChangeCipherSpec",
		ContentType: uint8(recordChangeCipherSpec),
		Length:      1,
		Data:        []byte{1},
	})
}
