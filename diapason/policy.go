package diapason

import (
	"fmt"
	"strconv"
	"strings"
)

// LinkID names one of the two mutual-TLS links.
type LinkID string

const (
	// LinkPSP is the GAP → payment provider link.
	LinkPSP LinkID = "psp"
	// LinkTPE is the payment terminal → GAP link.
	LinkTPE LinkID = "tpe"
)

// VersionTLS12 is the only protocol version both links use.
const VersionTLS12 uint16 = 0x0303

// Link is the TLS policy of one Diapason link.
type Link struct {
	ID LinkID `json:"id"`
	// Client and Server are the profiles each side presents.
	Client ProfileID `json:"client"`
	Server ProfileID `json:"server"`
	// Version is TLS 1.2: the sheet names no other.
	Version uint16 `json:"version"`
	// Suites is the offer, in preference order.
	Suites []uint16 `json:"suites"`
	// ClientRevocationRequired: the sheet makes the client certificate's
	// revocation check mandatory ("obligatoire").
	ClientRevocationRequired bool `json:"client_revocation_required"`
	// ServerRevocationRequired is false: for server certificates the sheet
	// calls it optional ("optionnel").
	ServerRevocationRequired bool `json:"server_revocation_required"`
}

// Links returns the policy of both links, provider link first.
func Links() []Link {
	return []Link{LookupLink(LinkPSP), LookupLink(LinkTPE)}
}

// LookupLink returns the policy of a link.
func LookupLink(id LinkID) Link {
	l := Link{
		ID: id, Version: VersionTLS12, Suites: append([]uint16(nil), DiapasonSuites...),
		ClientRevocationRequired: true,
	}
	switch id {
	case LinkPSP:
		l.Client, l.Server = PSPClient, PSPServer
	default:
		l.ID, l.Client, l.Server = LinkTPE, TPEClient, TPEServer
	}
	return l
}

// CipherSuite is a TLS 1.2 ECDHE_RSA suite with the names users type.
type CipherSuite struct {
	ID      uint16 `json:"id"`
	IANA    string `json:"iana"`
	OpenSSL string `json:"openssl"`
}

// DocumentedSuiteName is the suite name printed in the ASIP sheet. It is not in
// the IANA registry (no CBC suite pairs AES-256 with SHA-256); 0xC028 is the
// suite that fits it best, so the name is accepted as an alias of 0xC028.
const DocumentedSuiteName = "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA256"

// DiapasonSuites is what both links offer and accept: 0xC028 (what the sheet
// most likely means) then 0xC027, exactly what Ingenico Telium terminals offer
// when configured for "ECDHE+RSA+AES+SHA2".
var DiapasonSuites = []uint16{0xC028, 0xC027}

// suites lists every suite the TLS engine speaks; the ones outside
// DiapasonSuites exist for diagnosis with --cipher.
var suites = []CipherSuite{
	{0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", "ECDHE-RSA-AES256-SHA384"},
	{0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE-RSA-AES128-SHA256"},
	{0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384"},
	{0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"},
	{0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA"},
	{0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA"},
}

// Suites returns every suite the tool can negotiate, Diapason suites first.
func Suites() []CipherSuite {
	return append([]CipherSuite(nil), suites...)
}

// SuiteByID returns the suite with the given code point.
func SuiteByID(id uint16) (CipherSuite, bool) {
	for _, s := range suites {
		if s.ID == id {
			return s, true
		}
	}
	return CipherSuite{}, false
}

// LookupSuite resolves an IANA name, an OpenSSL name, a hex code point
// ("0xC028") or the sheet's documented name. viaAlias reports the last case so
// the caller can say which real suite the documented name stands for.
func LookupSuite(name string) (s CipherSuite, viaAlias bool, err error) {
	n := strings.TrimSpace(name)
	if strings.EqualFold(n, DocumentedSuiteName) {
		s, _ = SuiteByID(0xC028)
		return s, true, nil
	}
	if h, ok := strings.CutPrefix(strings.ToLower(n), "0x"); ok {
		if v, perr := strconv.ParseUint(h, 16, 16); perr == nil {
			if s, ok := SuiteByID(uint16(v)); ok {
				return s, false, nil
			}
		}
	}
	for _, s := range suites {
		if strings.EqualFold(n, s.IANA) || strings.EqualFold(n, s.OpenSSL) {
			return s, false, nil
		}
	}
	return CipherSuite{}, false, fmt.Errorf("unknown cipher suite %q: use an IANA name (TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384), an OpenSSL name (ECDHE-RSA-AES256-SHA384) or a code point (0xC028)", name)
}
