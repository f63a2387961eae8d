package dn

import (
	"encoding/asn1"
	"math"
	"unicode/utf8"
)

// parseSimple reads the names almost every certificate carries, strict DER with
// single-byte tags, without encoding/asn1's reflection, which made name parsing a
// fifth of the time of a directory scan. It accepts only what parseASN1 accepts and
// returns what it returns; anything else (ok false) is left to parseASN1, which then
// decides, with its error messages.
func parseSimple(der []byte) (Name, bool) {
	seq, rest, ok := readTLV(der, 0x30)
	if !ok || len(rest) > 0 {
		return nil, false
	}
	// Every RDN takes at least 11 bytes (a SET around a SEQUENCE of a 3-byte OID and
	// a 2-byte string): a capacity from the length avoids regrowing the slice.
	name := make(Name, 0, len(seq)/11+1)
	for len(seq) > 0 {
		var set []byte
		if set, seq, ok = readTLV(seq, 0x31); !ok || len(set) == 0 {
			return nil, false
		}
		var rdn RDN
		for len(set) > 0 {
			var atv, oidBytes, value []byte
			var tag byte
			if atv, set, ok = readTLV(set, 0x30); !ok {
				return nil, false
			}
			if oidBytes, atv, ok = readTLV(atv, 0x06); !ok {
				return nil, false
			}
			if tag, value, atv, ok = readAny(atv); !ok || len(atv) > 0 {
				return nil, false
			}
			oid, ok := parseOID(oidBytes)
			if !ok {
				return nil, false
			}
			var str, stype string
			switch tag &^ 0x20 { // the constructed bit, which parseASN1 does not look at
			case asn1.TagPrintableString:
				str, stype = string(value), PrintableString
			case asn1.TagUTF8String:
				if !utf8.Valid(value) {
					return nil, false
				}
				str, stype = string(value), UTF8String
			case asn1.TagIA5String:
				str, stype = string(value), IA5String
			default:
				return nil, false
			}
			rdn = append(rdn, Attribute{Type: typeName(oid), OID: oid, Value: str, StringType: stype})
		}
		name = append(name, rdn)
	}
	return name, true
}

// readTLV reads one element with the given single-byte tag and a minimal definite
// length (DER), returning its contents and what follows it.
func readTLV(b []byte, tag byte) (content, rest []byte, ok bool) {
	if len(b) < 2 || b[0] != tag {
		return nil, nil, false
	}
	_, content, rest, ok = readAny(b)
	return content, rest, ok
}

// readAny reads one element with a single-byte tag of the universal class.
func readAny(b []byte) (tag byte, content, rest []byte, ok bool) {
	if len(b) < 2 || b[0]&0x1f == 0x1f || b[0]>>6 != 0 {
		return 0, nil, nil, false
	}
	tag = b[0]
	n, off := int(b[1]), 2
	switch {
	case n < 0x80:
	case n == 0x81 && len(b) > 2 && b[2] >= 0x80:
		n, off = int(b[2]), 3
	case n == 0x82 && len(b) > 3 && b[2] != 0:
		n, off = int(b[2])<<8|int(b[3]), 4
	default:
		return 0, nil, nil, false
	}
	if len(b)-off < n {
		return 0, nil, nil, false
	}
	return tag, b[off : off+n], b[off+n:], true
}

// parseOID decodes an OBJECT IDENTIFIER's contents under encoding/asn1's rules:
// minimal base-128 components that fit in an int32.
func parseOID(b []byte) (asn1.ObjectIdentifier, bool) {
	if len(b) == 0 {
		return nil, false
	}
	oid := make(asn1.ObjectIdentifier, 0, len(b)+1)
	for off, first := 0, true; off < len(b); first = false {
		var v int64
		for shifted := 0; ; shifted++ {
			if off == len(b) || shifted == 5 || (shifted == 0 && b[off] == 0x80) {
				return nil, false
			}
			c := b[off]
			off++
			v = v<<7 | int64(c&0x7f)
			if c&0x80 == 0 {
				break
			}
		}
		if v > math.MaxInt32 {
			return nil, false
		}
		switch {
		case !first:
			oid = append(oid, int(v))
		case v < 80:
			oid = append(oid, int(v/40), int(v%40))
		default:
			oid = append(oid, 2, int(v-80))
		}
	}
	return oid, true
}
