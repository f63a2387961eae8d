package tls12

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
)

const (
	versionTLS12    = 0x0303
	recordHeaderLen = 5
	// maxPlaintext and maxCiphertext are the fragment limits of RFC 5246 §6.2.
	maxPlaintext  = 1 << 14
	maxCiphertext = maxPlaintext + 2048
)

type recordType uint8

const (
	recordChangeCipherSpec recordType = 20
	recordAlert            recordType = 21
	recordHandshake        recordType = 22
	recordApplicationData  recordType = 23
)

func (t recordType) String() string {
	switch t {
	case recordChangeCipherSpec:
		return "change_cipher_spec"
	case recordAlert:
		return "alert"
	case recordHandshake:
		return "handshake"
	case recordApplicationData:
		return "application_data"
	}
	return fmt.Sprintf("content_type(%d)", uint8(t))
}

// recordCipher protects the fragments of one direction once keys are in use.
// seal appends the protected payload to dst; open works in place.
type recordCipher interface {
	seal(dst []byte, seq uint64, typ recordType, payload []byte, rnd io.Reader) ([]byte, error)
	open(seq uint64, typ recordType, body []byte) ([]byte, error)
}

// halfConn is the protection state of one direction. The mutex serialises
// readers (or writers) of that direction.
type halfConn struct {
	sync.Mutex
	cipher recordCipher
	// pending waits for ChangeCipherSpec to become the cipher.
	pending recordCipher
	seq     uint64
	// err is sticky: once a direction failed, it stays failed.
	err error
}

func (h *halfConn) changeCipher() error {
	if h.pending == nil {
		return alertf(AlertUnexpectedMessage, "ChangeCipherSpec before the keys were agreed")
	}
	h.cipher, h.pending, h.seq = h.pending, nil, 0
	return nil
}

func (h *halfConn) nextSeq() (uint64, error) {
	// RFC 5246 §6.1: sequence numbers must not wrap; renegotiation being
	// refused, the connection has to end instead.
	if h.seq == math.MaxUint64 {
		return 0, alertf(AlertInternalError, "record sequence number exhausted")
	}
	s := h.seq
	h.seq++
	return s, nil
}

// readRecord reads one record and removes its protection. The caller holds c.in.
func (c *Conn) readRecord() (recordType, []byte, error) {
	var hdr [recordHeaderLen]byte
	if _, err := io.ReadFull(c.br, hdr[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return 0, nil, io.EOF
		}
		return 0, nil, err
	}
	typ := recordType(hdr[0])
	vers := uint16(hdr[1])<<8 | uint16(hdr[2])
	n := int(hdr[3])<<8 | int(hdr[4])
	switch typ {
	case recordChangeCipherSpec, recordAlert, recordHandshake, recordApplicationData:
	default:
		if !c.versionFixed {
			return 0, nil, alertf(AlertUnexpectedMessage, "peer does not speak TLS (first bytes %q)", hdr[:])
		}
		return 0, nil, alertf(AlertUnexpectedMessage, "record of unknown content type %d", hdr[0])
	}
	// Before the version is agreed, a ClientHello record may carry any
	// 0x03xx version (RFC 5246 appendix E.1).
	if (c.versionFixed && vers != versionTLS12) || hdr[1] != 3 {
		return 0, nil, alertf(AlertProtocolVersion, "record version 0x%04x, want 0x0303", vers)
	}
	limit := maxPlaintext
	if c.in.cipher != nil {
		limit = maxCiphertext
	}
	if n > limit {
		return 0, nil, alertf(AlertRecordOverflow, "record of %d bytes exceeds %d", n, limit)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(c.br, body); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	if c.in.cipher != nil {
		seq, err := c.in.nextSeq()
		if err != nil {
			return 0, nil, err
		}
		body, err = c.in.cipher.open(seq, typ, body)
		if err != nil {
			return 0, nil, &protocolError{alert: AlertBadRecordMAC, err: err}
		}
		if len(body) > maxPlaintext {
			return 0, nil, alertf(AlertRecordOverflow, "decrypted record of %d bytes exceeds %d", len(body), maxPlaintext)
		}
	}
	return typ, body, nil
}

// appendRecords splits data into protected records queued in c.sendBuf. The
// caller holds c.out.
func (c *Conn) appendRecords(typ recordType, data []byte) error {
	for first := true; first || len(data) > 0; first = false {
		frag := data[:min(len(data), maxPlaintext)]
		data = data[len(frag):]
		hdr := len(c.sendBuf)
		c.sendBuf = append(c.sendBuf, byte(typ), versionTLS12>>8, versionTLS12&0xff, 0, 0)
		if c.out.cipher == nil {
			c.sendBuf = append(c.sendBuf, frag...)
		} else {
			seq, err := c.out.nextSeq()
			if err != nil {
				return err
			}
			if c.sendBuf, err = c.out.cipher.seal(c.sendBuf, seq, typ, frag, c.config.rand()); err != nil {
				return alertf(AlertInternalError, "%w", err)
			}
		}
		n := len(c.sendBuf) - hdr - recordHeaderLen
		c.sendBuf[hdr+3], c.sendBuf[hdr+4] = byte(n>>8), byte(n)
	}
	return nil
}

// flush writes the queued records in one go, so that a flight usually leaves
// in one TCP segment. The caller holds c.out.
func (c *Conn) flush() error {
	if len(c.sendBuf) == 0 {
		return nil
	}
	_, err := c.conn.Write(c.sendBuf)
	c.sendBuf = c.sendBuf[:0]
	return err
}
