// Package dn reads and writes X.500 distinguished names as issued: RDNs in order, each value with its ASN.1 string type.
package dn

import (
	"encoding/asn1"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Attribute is one type=value pair of a name.
type Attribute struct {
	// Type is the short name (C, ST, L, O, OU, CN, ...) or the dotted OID.
	Type  string                `json:"type"`
	OID   asn1.ObjectIdentifier `json:"-"`
	Value string                `json:"value"`
	// StringType is the ASN.1 string type the value is encoded with.
	StringType string `json:"string_type"`
}

// RDN is one relative distinguished name; it almost always holds one attribute.
type RDN []Attribute

// Name is a distinguished name in the order it is encoded (country first).
type Name []RDN

// ASN.1 string types that appear in certificate names.
const (
	PrintableString = "PrintableString"
	UTF8String      = "UTF8String"
	IA5String       = "IA5String"
	T61String       = "T61String"
	BMPString       = "BMPString"
)

var shortNames = []struct {
	name string
	oid  asn1.ObjectIdentifier
}{
	{"C", asn1.ObjectIdentifier{2, 5, 4, 6}},
	{"ST", asn1.ObjectIdentifier{2, 5, 4, 8}},
	{"L", asn1.ObjectIdentifier{2, 5, 4, 7}},
	{"STREET", asn1.ObjectIdentifier{2, 5, 4, 9}},
	{"O", asn1.ObjectIdentifier{2, 5, 4, 10}},
	{"OU", asn1.ObjectIdentifier{2, 5, 4, 11}},
	{"CN", asn1.ObjectIdentifier{2, 5, 4, 3}},
	{"serialNumber", asn1.ObjectIdentifier{2, 5, 4, 5}},
	{"postalCode", asn1.ObjectIdentifier{2, 5, 4, 17}},
	{"emailAddress", asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}},
	{"organizationIdentifier", asn1.ObjectIdentifier{2, 5, 4, 97}},
}

func typeName(oid asn1.ObjectIdentifier) string {
	for _, s := range shortNames {
		if s.oid.Equal(oid) {
			return s.name
		}
	}
	return oid.String()
}

func typeOID(name string) (asn1.ObjectIdentifier, bool) {
	for _, s := range shortNames {
		if strings.EqualFold(s.name, name) {
			return s.oid, true
		}
	}
	return nil, false
}

// Parse decodes a DER-encoded name (a certificate's RawSubject or RawIssuer).
func Parse(der []byte) (Name, error) {
	if n, ok := parseSimple(der); ok {
		return n, nil
	}
	return parseASN1(der)
}

// parseASN1 is Parse for every name encoding/asn1 accepts, with its error messages.
func parseASN1(der []byte) (Name, error) {
	var seq []asn1.RawValue
	rest, err := asn1.Unmarshal(der, &seq)
	if err != nil {
		return nil, fmt.Errorf("malformed name: %w", err)
	}
	if len(rest) > 0 {
		return nil, errors.New("malformed name: trailing data")
	}
	name := make(Name, 0, len(seq))
	for _, set := range seq {
		if set.Class != asn1.ClassUniversal || set.Tag != asn1.TagSet {
			return nil, errors.New("malformed name: an RDN is not a SET")
		}
		var rdn RDN
		inner := set.Bytes
		for len(inner) > 0 {
			var atv struct {
				Type  asn1.ObjectIdentifier
				Value asn1.RawValue
			}
			inner, err = asn1.Unmarshal(inner, &atv)
			if err != nil {
				return nil, fmt.Errorf("malformed name attribute: %w", err)
			}
			value, stype, err := decodeString(atv.Value)
			if err != nil {
				return nil, fmt.Errorf("name attribute %s: %w", typeName(atv.Type), err)
			}
			rdn = append(rdn, Attribute{Type: typeName(atv.Type), OID: atv.Type, Value: value, StringType: stype})
		}
		name = append(name, rdn)
	}
	return name, nil
}

func decodeString(v asn1.RawValue) (string, string, error) {
	if v.Class != asn1.ClassUniversal {
		return "", "", fmt.Errorf("value is not a string (class %d, tag %d)", v.Class, v.Tag)
	}
	switch v.Tag {
	case asn1.TagPrintableString:
		return string(v.Bytes), PrintableString, nil
	case asn1.TagUTF8String:
		if !utf8.Valid(v.Bytes) {
			return "", "", errors.New("invalid UTF-8 in a UTF8String")
		}
		return string(v.Bytes), UTF8String, nil
	case asn1.TagIA5String:
		return string(v.Bytes), IA5String, nil
	case asn1.TagT61String:
		// T61 is treated as Latin-1, as most decoders do.
		r := make([]rune, len(v.Bytes))
		for i, b := range v.Bytes {
			r[i] = rune(b)
		}
		return string(r), T61String, nil
	case asn1.TagBMPString:
		if len(v.Bytes)%2 != 0 {
			return "", "", errors.New("odd length BMPString")
		}
		r := make([]rune, 0, len(v.Bytes)/2)
		for i := 0; i < len(v.Bytes); i += 2 {
			r = append(r, rune(v.Bytes[i])<<8|rune(v.Bytes[i+1]))
		}
		return string(r), BMPString, nil
	}
	return "", "", fmt.Errorf("unsupported string type (tag %d)", v.Tag)
}

// Marshal encodes the name with each attribute's string type; an attribute
// without one is a PrintableString for C (X.520 requires it) and a
// UTF8String otherwise (RFC 5280 §4.1.2.6), as in IGC-Santé certificates.
func Marshal(n Name) ([]byte, error) {
	var rdns []asn1.RawValue
	for _, rdn := range n {
		var setBody []byte
		for _, a := range rdn {
			oid := a.OID
			if oid == nil {
				var ok bool
				if oid, ok = typeOID(a.Type); !ok {
					return nil, fmt.Errorf("unknown attribute type %q", a.Type)
				}
			}
			val, err := encodeString(a.Value, a.StringType, oid)
			if err != nil {
				return nil, fmt.Errorf("attribute %s: %w", typeName(oid), err)
			}
			atv, err := asn1.Marshal(struct {
				Type  asn1.ObjectIdentifier
				Value asn1.RawValue
			}{oid, val})
			if err != nil {
				return nil, err
			}
			setBody = append(setBody, atv...)
		}
		rdns = append(rdns, asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: setBody})
	}
	return asn1.Marshal(rdns)
}

var countryOID = asn1.ObjectIdentifier{2, 5, 4, 6}

func encodeString(s, stype string, oid asn1.ObjectIdentifier) (asn1.RawValue, error) {
	if stype == "" {
		stype = UTF8String
		if oid.Equal(countryOID) {
			stype = PrintableString
		}
	}
	switch stype {
	case PrintableString:
		if !isPrintable(s) {
			return asn1.RawValue{}, fmt.Errorf("%q has characters a PrintableString cannot hold", s)
		}
		return asn1.RawValue{Tag: asn1.TagPrintableString, Bytes: []byte(s)}, nil
	case UTF8String:
		if !utf8.ValidString(s) {
			return asn1.RawValue{}, fmt.Errorf("%q is not valid UTF-8", s)
		}
		return asn1.RawValue{Tag: asn1.TagUTF8String, Bytes: []byte(s)}, nil
	case IA5String:
		for _, r := range s {
			if r > 0x7f {
				return asn1.RawValue{}, fmt.Errorf("%q has non-ASCII characters", s)
			}
		}
		return asn1.RawValue{Tag: asn1.TagIA5String, Bytes: []byte(s)}, nil
	}
	return asn1.RawValue{}, fmt.Errorf("cannot encode a %s", stype)
}

// isPrintable follows X.680's PrintableString alphabet.
func isPrintable(s string) bool {
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune(" '()+,-./:=?", r):
		default:
			return false
		}
	}
	return true
}

// Attrs builds a name with one attribute per RDN, in the order given.
func Attrs(pairs ...[2]string) Name {
	n := make(Name, 0, len(pairs))
	for _, p := range pairs {
		n = append(n, RDN{{Type: p[0], Value: p[1]}})
	}
	return n
}

// Values returns the values of every attribute of the given type, in order.
func (n Name) Values(typ string) []string {
	var out []string
	for _, rdn := range n {
		for _, a := range rdn {
			if strings.EqualFold(a.Type, typ) {
				out = append(out, a.Value)
			}
		}
	}
	return out
}

// String renders the name in issued order ("C=FR, O=ASIP-SANTE, OU=…, OU=…,
// CN=…"), keeping separate OUs separate, unlike pkix.Name's "OU=a+OU=b".
// Commas and plus signs inside values are escaped as RFC 4514 does.
func (n Name) String() string {
	var b strings.Builder
	for i, rdn := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		for j, a := range rdn {
			if j > 0 {
				b.WriteString(" + ")
			}
			b.WriteString(a.Type)
			b.WriteByte('=')
			b.WriteString(escape(a.Value))
		}
	}
	return b.String()
}

func escape(v string) string {
	// Most values need no escape: return them as they are, without a copy (the loop
	// below also turns invalid UTF-8 into U+FFFD).
	if !strings.ContainsAny(v, ",+\"\\<>;") && !strings.HasPrefix(v, "#") && !strings.HasPrefix(v, " ") && !strings.HasSuffix(v, " ") && utf8.ValidString(v) {
		return v
	}
	var b strings.Builder
	for i, r := range v {
		switch {
		case strings.ContainsRune(",+\"\\<>;", r),
			r == '#' && i == 0,
			r == ' ' && (i == 0 || i == len(v)-1):
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
