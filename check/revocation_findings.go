package check

import (
	"context"
	"crypto/x509"
	"fmt"
	"sync"
	"sync/atomic"
)

// revocationCache remembers answers about CA certificates by certificate and issuer
// key, up to maxCARevocations, so that memory stays flat when every file brings its CA.
type revocationCache struct {
	m     sync.Map
	count atomic.Int64
}

const maxCARevocations = 4096

func (c *revocationCache) get(ctx context.Context, k *Checker, cert, issuer *x509.Certificate) Revocation {
	key := string(cert.Signature) + "\x00" + string(issuer.RawSubjectPublicKeyInfo)
	if v, ok := c.m.Load(key); ok {
		return v.(Revocation)
	}
	r := k.ask(ctx, cert, issuer)
	// A cancelled check is no answer to remember.
	if ctx.Err() == nil && c.count.Load() < maxCARevocations {
		if _, loaded := c.m.LoadOrStore(key, r); !loaded {
			c.count.Add(1)
		}
	}
	return r
}

func (k *Checker) ask(ctx context.Context, cert, issuer *x509.Certificate) Revocation {
	if k.opts.RevocationSources == nil {
		return CheckRevocation(ctx, nil, cert, issuer, k.opts.Now)
	}
	return k.opts.RevocationSources.CheckRevocation(ctx, cert, issuer, k.opts.Now)
}

// revocation checks the certificate and each CA of its chain below the trust anchor or
// root against its issuer's revocation sources: a revoked intermediate revokes every
// certificate it issued. A trust anchor or a root is not revocable by its own CRL.
func (k *Checker) revocation(ctx context.Context, f *findings, rep *CertReport) {
	chain := rep.Chain
	top := chain.Certificates[0]
	if top.Root || (chain.Status == ChainTrusted && len(chain.Certificates) == 1) {
		return
	}
	var leaf Revocation
	if len(chain.Certificates) < 2 {
		leaf = Revocation{Status: RevocationUnknown, Message: fmt.Sprintf("the issuer of %q was not found, so no CRL or OCSP answer about it can be verified; give the issuer's certificate with --chain", commonName(rep.Cert))}
	} else {
		leaf = k.ask(ctx, rep.Cert, chain.Certificates[1].Cert)
	}
	rep.Revocation = &leaf
	k.revocationFindings(f, leaf, rep, "")
	for i := 1; i+1 < len(chain.Certificates); i++ {
		cc := &chain.Certificates[i]
		if cc.Source == SourceAnchor || cc.Root {
			break
		}
		r := k.caRevocations.get(ctx, k, cc.Cert, chain.Certificates[i+1].Cert)
		cc.Revocation = &r
		k.revocationFindings(f, r, rep, describeChainCert(*cc))
	}
}

// revocationFindings turns an answer into findings by the mode: revoked always fails;
// no answer fails under hard and warns under soft; no source at all fails under hard
// and, under soft, warns for the client certificates Diapason peers must check and is
// only said for the others. chainName is "" for the certificate itself.
func (k *Checker) revocationFindings(f *findings, r Revocation, rep *CertReport, chainName string) {
	f.list = appendNotes(f.list, r.Notes...)
	hard := k.opts.Revocation == RevocationHard
	prefix, subject, fix := "", "the certificate", "it must not be used any more: "+renewalHint(rep.Cert)
	if chainName != "" {
		prefix, subject = "chain-", chainName
		fix = "so is every certificate it issued: order new ones from a valid CA"
	}
	wayOut := "give the CRL with --crl FILE|URL, or check again when its server answers"
	if hard {
		wayOut += " (--revocation soft makes this a warning)"
	}
	switch r.Status {
	case RevocationRevoked:
		f.add(prefix+"revoked", Fail, "%s; %s", r.Message, fix)
	case RevocationUnknown:
		level := Warn
		if hard {
			level = Fail
		}
		f.add(prefix+"revocation-unknown", level, "the revocation status of %s is unknown: %s; %s", subject, r.Message, wayOut)
	case RevocationNoSource:
		level := Info
		why := ""
		switch {
		case hard:
			level = Fail
		case chainName == "" && (rep.Role == RoleGAPClient || rep.Role == RoleTPEClient):
			level, why = Warn, "; Diapason peers must check the revocation of client certificates and refuse one they cannot check"
		}
		f.add(prefix+"revocation-no-source", level, "no revocation source for %s: %s%s; %s", subject, r.Message, why, wayOut)
	}
}
