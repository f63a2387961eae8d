package check

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// RevocationStatus is what the revocation sources say about one certificate.
type RevocationStatus string

const (
	RevocationGood    RevocationStatus = "good"
	RevocationRevoked RevocationStatus = "revoked"
	// RevocationUnknown: a source covers the certificate's issuer but gave no usable
	// answer (a stale CRL, one not signed by the issuer, a download that failed).
	RevocationUnknown RevocationStatus = "unknown"
	// RevocationNoSource: no source given covers the certificate's issuer.
	RevocationNoSource RevocationStatus = "no-source"
)

// Revocation is one answer about a certificate.
type Revocation struct {
	Status RevocationStatus `json:"status"`
	// Source names what answered: "CRL crl.pem (number 3, issued 2026-11-20)".
	Source    string     `json:"source,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	Reason    string     `json:"reason,omitempty"`
	Message   string     `json:"message"`
	// Notes are what the sources met on the way, whatever the answer: a CRL ignored
	// because its signature does not verify, a stale one, an LDAP address skipped.
	Notes []Finding `json:"notes,omitempty"`
}

// RevocationChecker answers whether cert, issued by issuer, is revoked as of now. CRL
// files are one kind; CRLs downloaded from the distribution points and OCSP fit the
// same interface.
type RevocationChecker interface {
	CheckRevocation(ctx context.Context, cert, issuer *x509.Certificate, now time.Time) Revocation
}

// CheckRevocation asks every checker in turn. The first good or revoked answer wins;
// otherwise the answer is unknown when some source covered the issuer, no-source when
// none did, with the messages of all of them. The notes of every checker asked are kept.
func CheckRevocation(ctx context.Context, checkers []RevocationChecker, cert, issuer *x509.Certificate, now time.Time) Revocation {
	out := Revocation{Status: RevocationNoSource}
	var msgs []string
	var notes []Finding
	for _, c := range checkers {
		r := c.CheckRevocation(ctx, cert, issuer, now)
		notes = appendNotes(notes, r.Notes...)
		switch r.Status {
		case RevocationGood, RevocationRevoked:
			r.Notes = notes
			return r
		case RevocationUnknown:
			out.Status, out.Source = RevocationUnknown, r.Source
		}
		if r.Message != "" {
			msgs = append(msgs, r.Message)
		}
	}
	if len(msgs) == 0 {
		msgs = append(msgs, "no revocation source was given")
	}
	out.Message = strings.Join(msgs, "; ")
	out.Notes = notes
	return out
}

// appendNotes adds the notes not already there: sources asked about several
// certificates of one chain say the same thing once.
func appendNotes(list []Finding, add ...Finding) []Finding {
	for _, n := range add {
		dup := false
		for _, o := range list {
			if o == n {
				dup = true
				break
			}
		}
		if !dup {
			list = append(list, n)
		}
	}
	return list
}

// NamedCRL is a CRL with the file or URL it was read from.
type NamedCRL struct {
	Name string
	CRL  *x509.RevocationList
}

// CRLChecker answers from CRLs already read (--crl FILE, a lab's CRLs). A CRL counts
// only when it is signed by the certificate's issuer, and a stale one gives no answer:
// an attacker could otherwise replay an old CRL to hide a revocation.
type CRLChecker struct {
	crls []*crlEntry
}

// NewCRLChecker returns a checker over the given CRLs.
func NewCRLChecker(crls ...NamedCRL) *CRLChecker {
	k := &CRLChecker{}
	for _, c := range crls {
		k.crls = append(k.crls, newCRLEntry(c))
	}
	return k
}

// Unused names the CRLs that no certificate checked so far was issued by: given for
// nothing, or for certificates whose issuer is not known.
func (k *CRLChecker) Unused() []NamedCRL {
	var out []NamedCRL
	for _, e := range k.crls {
		if !e.matched.Load() {
			out = append(out, e.NamedCRL)
		}
	}
	return out
}

// CheckRevocation implements RevocationChecker. Among the CRLs of the issuer whose
// signature verifies, the latest (by thisUpdate) decides: a serial listed there is
// revoked, even when the CRL is stale, as revocation is final. A CRL named like the
// issuer whose signature does not verify is ignored, with a note.
func (k *CRLChecker) CheckRevocation(_ context.Context, cert, issuer *x509.Certificate, now time.Time) Revocation {
	var best *crlEntry
	var badSig []string
	var notes []Finding
	for _, e := range k.crls {
		if !bytes.Equal(e.CRL.RawIssuer, issuer.RawSubject) {
			continue
		}
		e.matched.Store(true)
		if err := e.verify(issuer); err != nil {
			msg := fmt.Sprintf("%s names the issuer %q but its signature does not verify with that CA's key (%v)", e.Name, commonName(issuer), err)
			badSig = append(badSig, msg)
			notes = append(notes, Finding{Slug: "crl-signature-invalid", Level: Warn,
				Message: msg + ": it was ignored; it was altered, or comes from another CA of that name; get the CRL again from the CA"})
			continue
		}
		if best == nil || e.CRL.ThisUpdate.After(best.CRL.ThisUpdate) {
			best = e
		}
	}
	if best == nil {
		if len(badSig) > 0 {
			return Revocation{Status: RevocationUnknown, Notes: notes, Message: strings.Join(badSig, "; ") + ": get the CRL again from the CA"}
		}
		return Revocation{Status: RevocationNoSource, Message: fmt.Sprintf("no CRL given is issued by %q", commonName(issuer))}
	}
	r := best.answer(cert, issuer, now)
	r.Notes = appendNotes(notes, r.Notes...)
	return r
}

// crlEntry is a CRL made ready for many lookups: its serials indexed, its signature
// checks remembered per issuer key, so that a scan of ten thousand certificates of one
// CA neither walks the list nor hashes a large CRL ten thousand times.
type crlEntry struct {
	NamedCRL
	index   sync.Once
	serials map[string]int // serial → position in RevokedCertificateEntries
	sigMu   sync.Mutex
	sigs    map[string]error // issuer's SubjectPublicKeyInfo → CheckSignatureFrom's answer
	matched atomic.Bool
	delta   bool
}

// oidDeltaCRLIndicator marks a delta CRL (RFC 5280 §5.2.4): a list of changes since a
// base CRL, which alone says nothing of certificates it does not list.
var oidDeltaCRLIndicator = asn1.ObjectIdentifier{2, 5, 29, 27}

func newCRLEntry(c NamedCRL) *crlEntry {
	e := &crlEntry{NamedCRL: c, sigs: map[string]error{}}
	for _, ext := range c.CRL.Extensions {
		if ext.Id.Equal(oidDeltaCRLIndicator) {
			e.delta = true
		}
	}
	return e
}

func (e *crlEntry) verify(issuer *x509.Certificate) error {
	key := string(issuer.RawSubjectPublicKeyInfo)
	e.sigMu.Lock()
	defer e.sigMu.Unlock()
	if err, ok := e.sigs[key]; ok {
		return err
	}
	err := e.CRL.CheckSignatureFrom(issuer)
	e.sigs[key] = err
	return err
}

func serialKey(n *big.Int) string {
	if n == nil {
		return ""
	}
	if n.Sign() < 0 {
		return "-" + string(n.Bytes())
	}
	return string(n.Bytes())
}

func (e *crlEntry) lookup(serial *big.Int) (x509.RevocationListEntry, bool) {
	e.index.Do(func() {
		e.serials = make(map[string]int, len(e.CRL.RevokedCertificateEntries))
		for i, r := range e.CRL.RevokedCertificateEntries {
			e.serials[serialKey(r.SerialNumber)] = i
		}
	})
	i, ok := e.serials[serialKey(serial)]
	if !ok {
		return x509.RevocationListEntry{}, false
	}
	return e.CRL.RevokedCertificateEntries[i], true
}

// answer is what a CRL whose signature verified says about cert.
func (e *crlEntry) answer(cert, issuer *x509.Certificate, now time.Time) Revocation {
	crl := e.CRL
	source := describeCRL(e.NamedCRL)
	if ent, ok := e.lookup(cert.SerialNumber); ok {
		at := ent.RevocationTime.UTC()
		reason := reasonName(ent.ReasonCode)
		return Revocation{Status: RevocationRevoked, Source: source, RevokedAt: &at, Reason: reason,
			Message: fmt.Sprintf("%q (serial %s) is revoked since %s (%s) according to %s", commonName(cert), serialString(cert), at.Format(time.RFC3339), reason, source)}
	}
	switch {
	case e.delta:
		msg := fmt.Sprintf("%s is a delta CRL, which lists only recent changes: give the full CRL of %q", source, commonName(issuer))
		return Revocation{Status: RevocationUnknown, Source: source, Message: msg}
	case now.Before(crl.ThisUpdate):
		return Revocation{Status: RevocationUnknown, Source: source,
			Message: fmt.Sprintf("%s is dated %s, in the future: check this machine's clock", source, crl.ThisUpdate.UTC().Format(time.RFC3339))}
	case !crl.NextUpdate.IsZero() && now.After(crl.NextUpdate):
		msg := fmt.Sprintf("%s is stale: its next update was due on %s; download the current CRL of %q", source, crl.NextUpdate.UTC().Format(time.RFC3339), commonName(issuer))
		return Revocation{Status: RevocationUnknown, Source: source, Message: msg,
			Notes: []Finding{{Slug: "crl-stale", Level: Info, Message: msg}}}
	}
	return Revocation{Status: RevocationGood, Source: source, Message: fmt.Sprintf("%q is not revoked according to %s", commonName(cert), source)}
}

func describeCRL(nc NamedCRL) string {
	s := "CRL " + nc.Name
	if nc.CRL.Number != nil {
		s += fmt.Sprintf(" (number %s, issued %s)", nc.CRL.Number, nc.CRL.ThisUpdate.UTC().Format(dateLayout))
	}
	return s
}

// reasonNames are the CRLReason values of RFC 5280 §5.3.1.
var reasonNames = map[int]string{
	0: "unspecified", 1: "keyCompromise", 2: "cACompromise", 3: "affiliationChanged", 4: "superseded",
	5: "cessationOfOperation", 6: "certificateHold", 8: "removeFromCRL", 9: "privilegeWithdrawn", 10: "aACompromise",
}

func reasonName(code int) string {
	if n, ok := reasonNames[code]; ok {
		return n
	}
	return fmt.Sprintf("reason %d", code)
}
