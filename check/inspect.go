package check

import (
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/dn"
)

// Role is the Diapason role a certificate fits. The names are those of the holders, as
// the lab names its credentials: the GAP holds gap-client and gap-server.
type Role string

const (
	RoleGAPClient Role = "gap-client" // psp-client profile: IGC-Santé ORG AUTH_CLI
	RoleGAPServer Role = "gap-server" // tpe-server profile: IGC-Santé SSL_SERVEUR
	RoleTPEClient Role = "tpe-client" // tpe-client profile: IngeTrust terminal certificate
	RolePSPServer Role = "psp-server" // psp-server profile: GeoTrust provider certificate
	RoleCA        Role = "ca"
	RoleOther     Role = "other"
)

var roleProfiles = map[Role]diapason.ProfileID{
	RoleGAPClient: diapason.PSPClient, RoleGAPServer: diapason.TPEServer,
	RoleTPEClient: diapason.TPEClient, RolePSPServer: diapason.PSPServer,
}

// Profile is the profile certificates of the role are checked against, "" for a CA or other.
func (r Role) Profile() diapason.ProfileID { return roleProfiles[r] }

// Label is the role as users say it ("GAP server").
func (r Role) Label() string {
	if p := r.Profile(); p != "" {
		return diapason.MustProfile(p).Role
	}
	if r == RoleCA {
		return "CA"
	}
	return "other"
}

// Certificate is what inspection shows of one certificate. Names are shown as issued:
// RDNs in encoded order, the two OUs of IGC-Santé names apart.
type Certificate struct {
	Cert               *x509.Certificate  `json:"-"`
	Subject            string             `json:"subject"`
	SubjectRDNs        dn.Name            `json:"subject_rdns,omitempty"`
	Issuer             string             `json:"issuer"`
	IssuerRDNs         dn.Name            `json:"issuer_rdns,omitempty"`
	CommonName         string             `json:"common_name"`
	Serial             string             `json:"serial"`
	NotBefore          time.Time          `json:"not_before"`
	NotAfter           time.Time          `json:"not_after"`
	DaysLeft           int                `json:"days_left"`
	Key                KeyInfo            `json:"key"`
	SignatureAlgorithm string             `json:"signature_algorithm"`
	DNSNames           []string           `json:"dns_names,omitempty"`
	IPAddresses        []string           `json:"ip_addresses,omitempty"`
	EmailAddresses     []string           `json:"email_addresses,omitempty"`
	URIs               []string           `json:"uris,omitempty"`
	KeyUsage           []string           `json:"key_usage,omitempty"`
	ExtKeyUsage        []string           `json:"ext_key_usage,omitempty"`
	IsCA               bool               `json:"is_ca"`
	CRLURLs            []string           `json:"crl_urls,omitempty"`
	OCSPURLs           []string           `json:"ocsp_urls,omitempty"`
	CAIssuerURLs       []string           `json:"ca_issuer_urls,omitempty"`
	SubjectKeyID       string             `json:"subject_key_id,omitempty"`
	AuthorityKeyID     string             `json:"authority_key_id,omitempty"`
	SHA256             string             `json:"sha256"`
	Role               Role               `json:"role"`
	Hierarchy          diapason.Hierarchy `json:"hierarchy"`
}

// Inspect describes c as of now.
func Inspect(c *x509.Certificate, now time.Time) Certificate {
	return inspect(c, now, nil)
}

func inspect(c *x509.Certificate, now time.Time, names *nameCache) Certificate {
	sum := sha256.Sum256(c.Raw)
	out := Certificate{
		Cert: c, CommonName: c.Subject.CommonName, Serial: serialString(c),
		NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(), DaysLeft: DaysLeft(c.NotAfter, now),
		Key: DescribeKey(c.PublicKey), SignatureAlgorithm: c.SignatureAlgorithm.String(),
		DNSNames: c.DNSNames, EmailAddresses: c.EmailAddresses,
		KeyUsage: keyUsageNames(c.KeyUsage), ExtKeyUsage: extKeyUsageNames(c),
		IsCA: c.IsCA, CRLURLs: c.CRLDistributionPoints, OCSPURLs: c.OCSPServer, CAIssuerURLs: c.IssuingCertificateURL,
		SHA256: diapason.Fingerprint(sum[:]), Role: RoleOf(c), Hierarchy: diapason.HierarchyOf(c),
	}
	if n, err := dn.Parse(c.RawSubject); err == nil {
		out.SubjectRDNs, out.Subject = n, n.String()
	} else {
		out.Subject = c.Subject.String()
	}
	out.IssuerRDNs, out.Issuer = names.name(c.RawIssuer, &c.Issuer)
	for _, ip := range c.IPAddresses {
		out.IPAddresses = append(out.IPAddresses, ip.String())
	}
	for _, u := range c.URIs {
		out.URIs = append(out.URIs, u.String())
	}
	if len(c.SubjectKeyId) > 0 {
		out.SubjectKeyID = diapason.Fingerprint(c.SubjectKeyId)
	}
	if len(c.AuthorityKeyId) > 0 {
		out.AuthorityKeyID = diapason.Fingerprint(c.AuthorityKeyId)
	}
	return out
}

// nameCache remembers rendered issuer names: the certificates of a scan share a few
// issuers, and parsing a name is a good part of inspecting a certificate. It stops
// growing at maxNames entries so that memory stays flat when every issuer differs.
// The cached dn.Name values are shared: nothing may modify them.
type nameCache struct {
	m     sync.Map // string(raw name) → cachedName
	count atomic.Int64
}

type cachedName struct {
	rdns dn.Name
	str  string
}

const maxNames = 1024

// name renders a raw name as issued, or Go's rendering of parsed when dn cannot read
// it. A nil cache renders every time.
func (nc *nameCache) name(raw []byte, parsed *pkix.Name) (dn.Name, string) {
	if nc != nil {
		if v, ok := nc.m.Load(string(raw)); ok {
			cn := v.(cachedName)
			return cn.rdns, cn.str
		}
	}
	n, err := dn.Parse(raw)
	out := cachedName{rdns: n}
	if err == nil {
		out.str = n.String()
	} else {
		out.str = parsed.String()
	}
	if nc != nil && nc.count.Load() < maxNames {
		if _, loaded := nc.m.LoadOrStore(string(raw), out); !loaded {
			nc.count.Add(1)
		}
	}
	return out.rdns, out.str
}

// DaysLeft counts whole days from now to notAfter, rounding down: a certificate that
// expires in 23 hours has 0 days left, one that expired an hour ago -1.
func DaysLeft(notAfter, now time.Time) int {
	return int(math.Floor(notAfter.Sub(now).Hours() / 24))
}

// serialString writes a serial number the way `openssl x509 -serial` does: upper-case
// hex with an even number of digits.
func serialString(c *x509.Certificate) string {
	if c.SerialNumber == nil {
		return ""
	}
	s := strings.ToUpper(c.SerialNumber.Text(16))
	sign := ""
	if rest, negative := strings.CutPrefix(s, "-"); negative {
		s, sign = rest, "-"
	}
	if len(s)%2 == 1 {
		s = "0" + s
	}
	return sign + s
}

// RoleOf says which Diapason role a certificate fits. IGC-Santé certificates (real or
// lab-made, by their issuer's O=ASIP-SANTE) are the GAP's, others the terminal's or the
// provider's. Within each pair the extendedKeyUsage decides (RFC 5280: no extension
// allows any use); when it allows both, a host name as CN makes it the server one. A
// certificate that allows neither, or any use without being from IGC-Santé, is "other".
func RoleOf(c *x509.Certificate) Role {
	if c.IsCA {
		return RoleCA
	}
	if c.Subject.CommonName == diapason.ClientDiapasonPSP {
		return RoleGAPClient
	}
	server, client := allowsEKU(c, x509.ExtKeyUsageServerAuth), allowsEKU(c, x509.ExtKeyUsageClientAuth)
	serverRole, clientRole := RolePSPServer, RoleTPEClient
	if isIGCSanteIssued(c) {
		serverRole, clientRole = RoleGAPServer, RoleGAPClient
	} else if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return RoleOther
	}
	switch {
	case server && client:
		if looksLikeHostname(c.Subject.CommonName) {
			return serverRole
		}
		return clientRole
	case server:
		return serverRole
	case client:
		return clientRole
	}
	return RoleOther
}

// isIGCSanteIssued recognises the issuer DN tail of IGC-Santé CAs, the lab's copies included.
func isIGCSanteIssued(c *x509.Certificate) bool {
	if len(c.Issuer.Organization) != 1 || c.Issuer.Organization[0] != "ASIP-SANTE" {
		return false
	}
	for _, ou := range c.Issuer.OrganizationalUnit {
		if strings.HasPrefix(ou, "IGC-SANTE") {
			return true
		}
	}
	return false
}

// allowsEKU follows RFC 5280 §4.2.1.12: without the extension any use is allowed; with
// it, the use (or anyExtendedKeyUsage) must be listed.
func allowsEKU(c *x509.Certificate, want x509.ExtKeyUsage) bool {
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return true
	}
	for _, u := range c.ExtKeyUsage {
		if u == want || u == x509.ExtKeyUsageAny {
			return true
		}
	}
	return false
}

func looksLikeHostname(s string) bool {
	return strings.Contains(s, ".") && !strings.ContainsAny(s, " _*")
}

var keyUsageBits = []struct {
	bit  x509.KeyUsage
	name string
}{
	{x509.KeyUsageDigitalSignature, "digitalSignature"},
	{x509.KeyUsageContentCommitment, "nonRepudiation"},
	{x509.KeyUsageKeyEncipherment, "keyEncipherment"},
	{x509.KeyUsageDataEncipherment, "dataEncipherment"},
	{x509.KeyUsageKeyAgreement, "keyAgreement"},
	{x509.KeyUsageCertSign, "keyCertSign"},
	{x509.KeyUsageCRLSign, "cRLSign"},
	{x509.KeyUsageEncipherOnly, "encipherOnly"},
	{x509.KeyUsageDecipherOnly, "decipherOnly"},
}

// keyUsageNames lists the keyUsage bits by their RFC 5280 names.
func keyUsageNames(ku x509.KeyUsage) []string {
	var out []string
	for _, b := range keyUsageBits {
		if ku&b.bit != 0 {
			out = append(out, b.name)
		}
	}
	return out
}

var ekuNames = map[x509.ExtKeyUsage]string{
	x509.ExtKeyUsageAny:                            "anyExtendedKeyUsage",
	x509.ExtKeyUsageServerAuth:                     "serverAuth",
	x509.ExtKeyUsageClientAuth:                     "clientAuth",
	x509.ExtKeyUsageCodeSigning:                    "codeSigning",
	x509.ExtKeyUsageEmailProtection:                "emailProtection",
	x509.ExtKeyUsageIPSECEndSystem:                 "ipsecEndSystem",
	x509.ExtKeyUsageIPSECTunnel:                    "ipsecTunnel",
	x509.ExtKeyUsageIPSECUser:                      "ipsecUser",
	x509.ExtKeyUsageTimeStamping:                   "timeStamping",
	x509.ExtKeyUsageOCSPSigning:                    "OCSPSigning",
	x509.ExtKeyUsageMicrosoftServerGatedCrypto:     "msSGC",
	x509.ExtKeyUsageNetscapeServerGatedCrypto:      "nsSGC",
	x509.ExtKeyUsageMicrosoftCommercialCodeSigning: "msCodeCom",
	x509.ExtKeyUsageMicrosoftKernelCodeSigning:     "msKernelCodeSigning",
}

// extKeyUsageNames lists the extendedKeyUsage purposes by their RFC 5280 names, unknown
// ones as dotted OIDs.
func extKeyUsageNames(c *x509.Certificate) []string {
	var out []string
	for _, u := range c.ExtKeyUsage {
		if n, ok := ekuNames[u]; ok {
			out = append(out, n)
		}
	}
	for _, oid := range c.UnknownExtKeyUsage {
		out = append(out, oid.String())
	}
	return out
}
