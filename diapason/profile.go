package diapason

import (
	"crypto/x509"
	"fmt"
	"strings"
)

// ProfileID names one of the four certificate roles of the two Diapason links.
type ProfileID string

const (
	// PSPClient is the GAP's client certificate towards the payment provider.
	PSPClient ProfileID = "psp-client"
	// TPEServer is the GAP's server certificate that payment terminals connect to.
	TPEServer ProfileID = "tpe-server"
	// TPEClient is a payment terminal's client certificate.
	TPEClient ProfileID = "tpe-client"
	// PSPServer is the payment provider's server certificate.
	PSPServer ProfileID = "psp-server"
)

// ClientDiapasonPSP is the CN the ASIP sheet tells editors to type when ordering
// the ORG AUTH_CLI certificate; the provider identifies GAPs by it.
const ClientDiapasonPSP = "Client_Diapason_PSP"

// Profile describes what a certificate in one Diapason role must look like.
type Profile struct {
	ID ProfileID `json:"id"`
	// Role is the user-facing name of the role ("GAP client").
	Role string `json:"role"`
	// Link is the TLS link the certificate authenticates.
	Link LinkID `json:"link"`
	// Issuer names the authority that issues certificates of this role.
	Issuer string `json:"issuer"`
	// Offer is the IGC-Santé product to order, empty for roles the editor does not order.
	Offer string `json:"offer,omitempty"`
	// FixedCN is the exact CN the role requires, when it is fixed.
	FixedCN string `json:"fixed_cn,omitempty"`
	// CNIsFQDN is set when the CN must equal the server's FQDN: the terminal
	// compares its configured FQDN with the CN, not with the SANs.
	CNIsFQDN bool `json:"cn_is_fqdn"`
	// SANIsFQDN is set when the certificate also carries the FQDN as a DNS SAN,
	// which modern TLS stacks check instead of the CN.
	SANIsFQDN bool `json:"san_is_fqdn"`
	// ExtKeyUsage is the usage an extendedKeyUsage extension, when present, must contain (RFC 5280 §4.2.1.12).
	ExtKeyUsage x509.ExtKeyUsage `json:"-"`
	// MinRSABits is the smallest RSA modulus accepted: the ECDHE_RSA suites need
	// an RSA key and IGC-Santé issues RSA 2048.
	MinRSABits int `json:"min_rsa_bits"`
	// Term is the fixed validity of the role's certificates; zero when the
	// issuer's own rules apply (IngeTrust 10 years, GeoTrust public TLS rules).
	Term Period `json:"term"`
	// IGCSante is set for the two profiles issued by IGC-Santé.
	IGCSante bool `json:"igc_sante"`
}

// EKUName is the RFC 5280 name of the profile's required extended key usage.
func (p Profile) EKUName() string {
	if p.ExtKeyUsage == x509.ExtKeyUsageServerAuth {
		return "serverAuth"
	}
	return "clientAuth"
}

// PlatformValue is what the editor types on the IGC-Santé platform (PFCNG) when
// ordering this profile, as the ASIP sheet says: the fixed CN for ORG AUTH_CLI,
// "<server>.<domain>" for SSL_SERVEUR.
func (p Profile) PlatformValue(fqdn string) string {
	if p.FixedCN != "" {
		return p.FixedCN
	}
	return fqdn
}

var profiles = []Profile{
	{
		ID: PSPClient, Role: "GAP client", Link: LinkPSP, Issuer: "IGC-Santé",
		Offer: "ORG AUTH_CLI", FixedCN: ClientDiapasonPSP,
		ExtKeyUsage: x509.ExtKeyUsageClientAuth, MinRSABits: 2048,
		Term: CertificateTerm, IGCSante: true,
	},
	{
		ID: TPEServer, Role: "GAP server", Link: LinkTPE, Issuer: "IGC-Santé",
		Offer: "SSL_SERVEUR", CNIsFQDN: true, SANIsFQDN: true,
		ExtKeyUsage: x509.ExtKeyUsageServerAuth, MinRSABits: 2048,
		Term: CertificateTerm, IGCSante: true,
	},
	{
		ID: TPEClient, Role: "terminal client", Link: LinkTPE, Issuer: "IngeTrust (Ingenico)",
		ExtKeyUsage: x509.ExtKeyUsageClientAuth, MinRSABits: 2048,
	},
	{
		ID: PSPServer, Role: "provider server", Link: LinkPSP, Issuer: "GeoTrust (DigiCert)",
		SANIsFQDN: true, ExtKeyUsage: x509.ExtKeyUsageServerAuth, MinRSABits: 2048,
	},
}

// Profiles returns the four profiles, the two the editor orders first.
func Profiles() []Profile {
	return append([]Profile(nil), profiles...)
}

// LookupProfile returns the profile with the given ID.
func LookupProfile(id string) (Profile, error) {
	for _, p := range profiles {
		if string(p.ID) == id {
			return p, nil
		}
	}
	names := make([]string, len(profiles))
	for i, p := range profiles {
		names[i] = string(p.ID)
	}
	return Profile{}, fmt.Errorf("unknown profile %q (want one of %s)", id, strings.Join(names, ", "))
}

// MustProfile returns a profile known to exist; it is for the package's own constants.
func MustProfile(id ProfileID) Profile {
	p, err := LookupProfile(string(id))
	if err != nil {
		panic(err)
	}
	return p
}
