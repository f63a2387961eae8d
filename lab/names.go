package lab

import (
	"net/url"
	"strings"

	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/dn"
)

// Every lab name carries "LAB" (in the CN, or in the O where the CN is fixed
// by the profile) so that a person reading a DN never takes a lab certificate
// for a real one; the policy diapason.LabPolicyOID tells programs the same.

// igcTail is the DN shape of the real IGC-Santé CAs: C (PrintableString), O,
// then TWO separate OU RDNs (the ASIP SIREN, then the hierarchy), then CN, all
// UTF8String. pkix.Name would merge the OUs into one RDN, hence dn.Name.
func igcName(cn string) dn.Name {
	return dn.Attrs(
		[2]string{"C", "FR"},
		[2]string{"O", "ASIP-SANTE"},
		[2]string{"OU", "0002 187512751"},
		[2]string{"OU", "IGC-SANTE LAB"},
		[2]string{"CN", cn},
	)
}

// printable builds a name whose values are all PrintableString, as DigiCert
// (GeoTrust) encodes its names.
func printable(pairs ...[2]string) dn.Name {
	n := dn.Attrs(pairs...)
	for _, rdn := range n {
		for i := range rdn {
			rdn[i].StringType = dn.PrintableString
		}
	}
	return n
}

// labStructure stands for the editor's structure as the IGC-Santé platform
// knows it: the platform writes ST, O and OU from the account, whatever the
// CSR says, and takes only the CN (the value typed) and the key from the order.
var labStructure = struct {
	State, Organisation, StructureID string
}{
	State:        "Côte-d'Or (21)",
	Organisation: "LAB CENTRE HOSPITALIER EXEMPLE",
	// 3 + a SIRET, the national structure identifier form of real certificates.
	StructureID: "399999999900013",
}

// structureName is the subject of an IGC-Santé end-entity certificate:
// C=FR, ST, O, OU, CN, as in the real TEST sample.
func structureName(cn string) dn.Name {
	return dn.Attrs(
		[2]string{"C", "FR"},
		[2]string{"ST", labStructure.State},
		[2]string{"O", labStructure.Organisation},
		[2]string{"OU", labStructure.StructureID},
		[2]string{"CN", cn},
	)
}

type caSpec struct {
	name    CAName
	parent  CAName
	subject dn.Name
	// years of validity from the CA epoch; real roots last 20 years.
	years int
	// maxPathLen is the pathLenConstraint, -1 for none (a root).
	maxPathLen int
	// aia gives the CA certificate OCSP and caIssuers addresses, as DigiCert's
	// intermediates have and IGC-Santé's do not.
	aia bool
}

var caSpecs = []caSpec{
	{name: CAIGCRoot, subject: igcName("LAB AC RACINE IGC-SANTE ELEMENTAIRE"), years: 20, maxPathLen: -1},
	{name: CAIGCOrg, parent: CAIGCRoot, subject: igcName("LAB AC IGC-SANTE ELEMENTAIRE ORGANISATIONS"), years: 20, maxPathLen: 0},
	{name: CAIngeTrust, subject: dn.Attrs([2]string{"C", "FR"}, [2]string{"O", "LAB INGENICO"}, [2]string{"OU", "IngeTrust"},
		[2]string{"CN", "LAB IngeTrust Terminal CA"}), years: 25, maxPathLen: 0},
	{name: CAGeoTrustRoot, subject: printable([2]string{"C", "US"}, [2]string{"O", "LAB GeoTrust-like Inc"},
		[2]string{"OU", "diapason-cert lab"}, [2]string{"CN", "LAB GeoTrust-like Global Root G2"}), years: 25, maxPathLen: -1},
	{name: CAGeoTrustCA, parent: CAGeoTrustRoot, subject: printable([2]string{"C", "US"}, [2]string{"O", "LAB GeoTrust-like Inc"},
		[2]string{"CN", "LAB GeoTrust-like TLS RSA CA G1"}), years: 10, maxPathLen: 0, aia: true},
}

func specOf(n CAName) caSpec {
	for _, s := range caSpecs {
		if s.name == n {
			return s
		}
	}
	panic("lab: no CA named " + string(n))
}

type roleSpec struct {
	role    Role
	profile diapason.ProfileID
	issuer  CAName
	subject func(fqdn string) dn.Name
	dnsName func(fqdn string) string
}

var roleSpecs = []roleSpec{
	{role: RoleGAPClient, profile: diapason.PSPClient, issuer: CAIGCOrg,
		subject: func(string) dn.Name { return structureName(diapason.ClientDiapasonPSP) }},
	{role: RoleGAPServer, profile: diapason.TPEServer, issuer: CAIGCOrg,
		subject: func(fqdn string) dn.Name { return structureName(fqdn) },
		dnsName: func(fqdn string) string { return fqdn }},
	{role: RoleTPEClient, profile: diapason.TPEClient, issuer: CAIngeTrust,
		subject: func(string) dn.Name { return terminalName("LAB TPE 00000001") }},
	{role: RoleTPERevoked, profile: diapason.TPEClient, issuer: CAIngeTrust,
		subject: func(string) dn.Name { return terminalName("LAB TPE 00000002") }},
	{role: RolePSPServer, profile: diapason.PSPServer, issuer: CAGeoTrustCA,
		subject: func(string) dn.Name { return providerName(PSPFQDN) },
		dnsName: func(string) string { return PSPFQDN }},
}

// providerName is the payment provider's server subject, an
// organisation-validated one as GeoTrust issues.
func providerName(cn string) dn.Name {
	return dn.Attrs([2]string{"C", "FR"}, [2]string{"ST", "Île-de-France"}, [2]string{"L", "Paris"},
		[2]string{"O", "LAB PSP EXEMPLE SAS"}, [2]string{"CN", cn})
}

// terminalName is a payment terminal's subject: the terminal's identifier as CN.
func terminalName(cn string) dn.Name {
	return dn.Attrs([2]string{"C", "FR"}, [2]string{"O", "LAB INGENICO"}, [2]string{"OU", "IngeTrust Terminals"}, [2]string{"CN", cn})
}

// issuerFor is the CA that signs certificates of a profile, as in reality.
func issuerFor(p diapason.ProfileID) CAName {
	switch p {
	case diapason.TPEClient:
		return CAIngeTrust
	case diapason.PSPServer:
		return CAGeoTrustCA
	}
	return CAIGCOrg
}

// Paths of the lab's HTTP addresses under its base URL, shaped like the real
// ones (…/CRL/ACI-EL-ORG-TEST.crl, http://ocsp.esante.gouv.fr, …/ACI-EL-ORG-TEST.cer).
const (
	crlPath  = "crl/"
	caPath   = "ca/"
	ocspPath = "ocsp"
)

func crlURL(base string, n CAName) string { return base + crlPath + string(n) + ".crl" }
func caURL(base string, n CAName) string  { return base + caPath + string(n) + ".cer" }
func ocspURL(base string) string          { return base + ocspPath }

// ldapURL is the LDAP twin of a CRL address, as real IGC-Santé certificates
// carry one beside the HTTP one (clients skip it). Nothing answers it: it
// exists so that code which must skip LDAP meets one.
func ldapURL(base string, issuer dn.Name, attr string) string {
	host := "localhost"
	if u, err := url.Parse(base); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	parts := make([]string, 0, len(issuer))
	for i := len(issuer) - 1; i >= 0; i-- {
		for _, a := range issuer[i] {
			parts = append(parts, strings.ToLower(a.Type)+"="+a.Value)
		}
	}
	// Commas separate the RDNs unescaped, as in the real URLs (RFC 4516 allows them in a DN).
	dnPart := strings.ReplaceAll(url.PathEscape(strings.Join(parts, ",")), "%2C", ",")
	return "ldap://" + host + "/" + dnPart + "?" + attr + ";binary?base?objectClass=pkiCA"
}
