package certio

import (
	"bytes"
	"errors"
	"strings"
)

// The helpers below look at raw ASN.1 headers because encoding/asn1 stops at the first
// BER construct with a message that does not say what the file is; PKCS#7 and PKCS#12
// are the formats that other tools (Windows, Java, NSS, OpenSSL's -stream) emit as BER.

// header is one parsed ASN.1 identifier and length.
type header struct {
	tag        byte // the first identifier octet: class, constructed bit and low tag
	hlen, clen int  // header and content lengths; clen is 0 when indefinite
	indefinite bool
}

func (h header) end() int { return h.hlen + h.clen }

func readHeader(b []byte) (header, error) {
	var h header
	if len(b) < 2 {
		return h, errors.New("truncated header")
	}
	h.tag, h.hlen = b[0], 1
	if h.tag&0x1f == 0x1f { // high tag number: base-128 octets follow
		for h.hlen < len(b) && b[h.hlen]&0x80 != 0 {
			h.hlen++
		}
		h.hlen++
	}
	if h.hlen >= len(b) {
		return h, errors.New("truncated header")
	}
	l := b[h.hlen]
	h.hlen++
	switch {
	case l < 0x80:
		h.clen = int(l)
	case l == 0x80:
		h.indefinite = true
	case l > 0x84:
		return h, errors.New("length too large")
	default:
		n := int(l & 0x7f)
		if h.hlen+n > len(b) {
			return h, errors.New("truncated header")
		}
		for _, c := range b[h.hlen : h.hlen+n] {
			h.clen = h.clen<<8 | int(c)
		}
		if h.clen < 0 { // overflowed a 32-bit int
			return h, errors.New("length too large")
		}
		h.hlen += n
	}
	return h, nil
}

// content returns the content octets of the element at the start of b. An
// indefinite or truncated element runs to the end of b, which is enough to peek at
// its first children.
func content(b []byte) ([]byte, bool) {
	h, err := readHeader(b)
	switch {
	case err != nil:
		return nil, false
	case h.indefinite || h.end() > len(b):
		return b[h.hlen:], true
	}
	return b[h.hlen:h.end()], true
}

// DER encodings of the object identifiers the peeking functions compare.
var (
	derPKCS7Prefix = []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07} // 1.2.840.113549.1.7.*
	derVersion3    = []byte{0x02, 0x01, 0x03}
)

// isPKCS7 recognises a PKCS#7 ContentInfo: SEQUENCE { OID 1.2.840.113549.1.7.x, ... },
// in DER or BER.
func isPKCS7(b []byte) bool {
	if len(b) == 0 || b[0] != 0x30 {
		return false
	}
	inner, ok := content(b)
	return ok && len(inner) > len(derPKCS7Prefix) && bytes.HasPrefix(inner, derPKCS7Prefix)
}

// isPKCS12 recognises a PFX: SEQUENCE { INTEGER 3, SEQUENCE { OID pkcs7-*, ... }, ... },
// in DER or BER.
func isPKCS12(b []byte) bool {
	if len(b) == 0 || b[0] != 0x30 {
		return false
	}
	inner, ok := content(b)
	if !ok || !bytes.HasPrefix(inner, derVersion3) {
		return false
	}
	authSafe := inner[len(derVersion3):]
	return len(authSafe) > 0 && authSafe[0] == 0x30 && isPKCS7(authSafe)
}

// berReason says which BER construct b contains, or "" when it finds none. It descends
// into constructed elements and into OCTET STRINGs that wrap a SEQUENCE, as PKCS#12
// does; it is only consulted after a strict DER parse has failed, to explain why.
func berReason(b []byte, depth int) string {
	for depth < 32 && len(b) > 0 {
		h, err := readHeader(b)
		switch {
		case err != nil:
			return ""
		case h.indefinite:
			return "indefinite-length encoding"
		case h.end() > len(b):
			return ""
		}
		inner := b[h.hlen:h.end()]
		switch {
		case h.tag == 0x23 || h.tag == 0x24:
			return "a constructed (chunked) BIT or OCTET STRING"
		case h.tag&0x20 != 0, h.tag == 0x04 && len(inner) > 0 && inner[0] == 0x30:
			if r := berReason(inner, depth+1); r != "" {
				return r
			}
		}
		b = b[h.end():]
	}
	return ""
}

// notDER reports whether err is encoding/asn1 refusing a BER construct.
func notDER(err error) bool {
	return err != nil && strings.Contains(err.Error(), "not DER")
}

// shellArg renders a file name for a command line in a hint; standard input has no
// name, so FILE stands for it.
func shellArg(name string) string {
	if name == "-" || name == "" {
		return "FILE"
	}
	if strings.ContainsAny(name, " \t'\"$`\\!*?&;|<>()[]{}#~") {
		return "'" + strings.ReplaceAll(name, "'", `'\''`) + "'"
	}
	return name
}

// derivedArg names an output file made from name for a command line in a hint.
func derivedArg(name, suffix string) string {
	if name == "-" || name == "" {
		return "FILE" + suffix
	}
	return shellArg(name + suffix)
}
