package preflight

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/diapason-cert/diapason-cert/bundle"
	"github.com/diapason-cert/diapason-cert/check"
)

// terminalsTrustStep checks the CAs the GAP server trusts terminals with.
func (st *state) terminalsTrustStep(ctx context.Context) Step {
	return st.trustStep("truststore.ingetrust", st.in.ingetrust, "IngeTrust", "the terminals' certificates",
		"the IngeTrust CA file Ingenico supplies", nil)
}

// providerTrustStep checks the CAs the GAP trusts the provider with, and that
// the CA the provider names is among them.
func (st *state) providerTrustStep(ctx context.Context) Step {
	return st.trustStep("truststore.geotrust", st.in.geotrust, "GeoTrust", "the provider's certificate",
		"the GeoTrust/DigiCert root the provider names", func(ts *bundle.TrustStore) []check.Finding { return st.providerCAFindings(ctx, ts) })
}

func (st *state) trustStep(key string, sources []bundle.Source, issuer, what, file string, more func(*bundle.TrustStore) []check.Finding) Step {
	switch {
	case st.in.unread[key]:
		return Step{Status: Skip, Reason: fmt.Sprintf("not checked: a %s file could not be read (see files)", key)}
	case len(sources) == 0:
		return Step{Status: Fail, Reason: fmt.Sprintf("no %s CA is configured: the GAP cannot verify %s", issuer, what),
			Fix: fmt.Sprintf("set %s to %s", describe(key), file)}
	}
	ts, err := bundle.NewTrustStore(sources, false, st.opts.Now)
	if err != nil {
		s := Step{Status: Fail, Reason: err.Error(), Fix: fmt.Sprintf("%s takes CA certificates only: %s", key, file)}
		var nc *bundle.NotCAError
		if errors.As(err, &nc) {
			s.Reason = fmt.Sprintf("%s is not a CA certificate: a truststore holding a certificate itself trusts that one certificate only, "+
				"and stops working when it is renewed", nc.Subject)
		}
		return s
	}
	fs := ts.Findings
	if more != nil {
		fs = append(fs, more(ts)...)
	}
	names := make([]string, len(ts.Entries))
	for i, e := range ts.Entries {
		names[i] = fmt.Sprintf("%s (until %s)", commonName(e.Cert), day(e.Cert.NotAfter))
	}
	plural := "s"
	if len(names) == 1 {
		plural = ""
	}
	s := judged(sortFindings(fs), fmt.Sprintf("%d CA certificate%s: %s", len(names), plural, strings.Join(names, ", ")))
	if s.Status != Pass {
		s.Fix = fmt.Sprintf("put %s, current, in %s", file, describe(key))
	}
	return s
}

// providerCAFindings says whether the truststore trusts the CA the provider
// names: the CA itself, or a root it chains to, must be in it.
func (st *state) providerCAFindings(ctx context.Context, ts *bundle.TrustStore) []check.Finding {
	if st.in.unread["provider.ca"] {
		return []check.Finding{{Slug: "provider-ca-unread", Level: check.Info, Message: "provider.ca could not be read (see files): whether the truststore trusts it is not known"}}
	}
	b := check.NewChainBuilder(check.ChainOptions{Anchors: ts.Certificates()})
	var out []check.Finding
	for _, src := range st.in.providerCA {
		ch := b.Build(ctx, src.Cert, nil, st.opts.Now)
		if ch.Status == check.ChainTrusted {
			continue
		}
		out = append(out, check.Finding{Slug: "provider-ca-not-trusted", Level: check.Fail, Message: fmt.Sprintf(
			"the provider's CA %q (provider.ca %s) is not in truststore.geotrust, nor issued by a CA there: the GAP would refuse the provider's certificate",
			commonName(src.Cert), src.Path)})
	}
	return out
}
