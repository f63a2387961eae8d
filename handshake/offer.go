// Package handshake is the Diapason use of tls12: probes of both links, the servers they talk to, and verdicts that explain every failure.
package handshake

import (
	"fmt"
	"slices"
	"strings"

	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/tls12"
)

// SuiteInfo is a cipher suite as reports show it.
type SuiteInfo struct {
	ID       string `json:"id"` // "0xC028"
	IANA     string `json:"iana"`
	OpenSSL  string `json:"openssl,omitempty"`
	Diapason bool   `json:"diapason"`
}

// DescribeSuite names a suite by its code point, IANA and OpenSSL names.
func DescribeSuite(id uint16) SuiteInfo {
	s := SuiteInfo{ID: fmt.Sprintf("0x%04X", id), IANA: tls12.CipherSuiteName(id), Diapason: slices.Contains(diapason.DiapasonSuites, id)}
	if cs, ok := diapason.SuiteByID(id); ok {
		s.IANA, s.OpenSSL = cs.IANA, cs.OpenSSL
	}
	return s
}

// Offer is the suite list a side offers (a client) or accepts (a server), in
// preference order.
type Offer struct {
	Suites []uint16
	// Alias is set when the list named the ASIP sheet's suite name, which is not
	// in the IANA registry and stands for 0xC028.
	Alias bool
}

// DiapasonOffer is the policy of both links: 0xC028 then 0xC027.
func DiapasonOffer() Offer {
	return Offer{Suites: slices.Clone(diapason.DiapasonSuites)}
}

// AliasNote says what the sheet's suite name stands for, for the user to read
// whenever the name was used.
func AliasNote() string {
	s, _ := diapason.SuiteByID(0xC028)
	return fmt.Sprintf("%s, the name in the ASIP sheet, is not in the IANA registry: it stands for 0xC028 %s (OpenSSL %s), which is what is used",
		diapason.DocumentedSuiteName, s.IANA, s.OpenSSL)
}

// ParseOffer reads a --cipher value: names separated by commas, colons or
// spaces, each an IANA name, an OpenSSL name, a code point (0xC028), the ASIP
// sheet's name, or "diapason" for the Diapason suites. The list replaces the
// Diapason offer, so it narrows it (one suite) or widens it
// ("diapason,ECDHE-RSA-AES256-GCM-SHA384"); diapason.Suites lists what the
// TLS engine speaks.
func ParseOffer(list string) (Offer, error) {
	var o Offer
	add := func(id uint16) {
		if !slices.Contains(o.Suites, id) {
			o.Suites = append(o.Suites, id)
		}
	}
	fields := strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ':' || r == ' ' })
	for _, f := range fields {
		if strings.EqualFold(f, "diapason") {
			for _, id := range diapason.DiapasonSuites {
				add(id)
			}
			continue
		}
		s, alias, err := diapason.LookupSuite(f)
		if err != nil {
			return Offer{}, err
		}
		o.Alias = o.Alias || alias
		add(s.ID)
	}
	if len(o.Suites) == 0 {
		return Offer{}, fmt.Errorf("empty cipher suite list %q: name at least one suite, or \"diapason\"", list)
	}
	return o, nil
}

// Describe lists the suites for reports.
func (o Offer) Describe() []SuiteInfo {
	out := make([]SuiteInfo, len(o.Suites))
	for i, id := range o.Suites {
		out[i] = DescribeSuite(id)
	}
	return out
}

// groups is the ECDHE offer, said in reports; it is the engine's default order.
var groups = []tls12.Group{tls12.X25519, tls12.P256, tls12.P384}

func groupNames() []string {
	out := make([]string, len(groups))
	for i, g := range groups {
		out[i] = g.String()
	}
	return out
}
