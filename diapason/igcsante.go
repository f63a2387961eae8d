package diapason

import (
	"crypto/sha256"
	"crypto/x509"
	"embed"
	"encoding/asn1"
	"fmt"
	"strings"
	"sync"
)

// Hierarchy is the PKI a certificate belongs to. Mixing TEST and production
// chains is the most common real-world mistake, so every certificate is placed.
type Hierarchy string

const (
	HierarchyProduction Hierarchy = "production"
	HierarchyTest       Hierarchy = "test"
	HierarchyLab        Hierarchy = "lab"
	HierarchyOther      Hierarchy = "other"
)

// ParseHierarchy reads a --hierarchy value.
func ParseHierarchy(s string) (Hierarchy, error) {
	switch h := Hierarchy(strings.ToLower(strings.TrimSpace(s))); h {
	case HierarchyProduction, HierarchyTest, HierarchyLab:
		return h, nil
	}
	return "", fmt.Errorf("unknown hierarchy %q (want production, test or lab)", s)
}

// Label is the hierarchy as a user reads it.
func (h Hierarchy) Label() string {
	switch h {
	case HierarchyProduction:
		return "IGC-Santé production"
	case HierarchyTest:
		return "IGC-Santé TEST"
	case HierarchyLab:
		return "diapason-cert lab"
	}
	return "other"
}

// LabPolicyOID marks certificates made by `diapason-cert lab`, so a lab
// certificate is never mistaken for a real one. It is a UUID-based OID
// (ITU-T X.667, arc 2.25), which needs no registration.
var LabPolicyOID = mustOID("2.25.178479418115975155986887183001287112059")

func mustOID(s string) x509.OID {
	oid, err := x509.ParseOID(s)
	if err != nil {
		panic(err)
	}
	return oid
}

// IGCSantePrivateExtensionOID is the private non-critical extension real
// IGC-Santé end-entity certificates carry.
var IGCSantePrivateExtensionOID = asn1.ObjectIdentifier{1, 2, 250, 1, 71, 1, 2, 5}

// Organisation and OUs of the IGC-Santé DN tail (OU=IGC-SANTE[ TEST], OU=0002 187512751, O=ASIP-SANTE, C=FR).
const (
	igcOrganisation = "ASIP-SANTE"
	igcOUProduction = "IGC-SANTE"
	igcOUTest       = "IGC-SANTE TEST"
)

// IntermediateURL is where the ASIP sheet says to download the ORGANISATIONS
// intermediate when the certificate was ordered from an uploaded CSR.
const IntermediateURL = "http://igc-sante.esante.gouv.fr/AC/ACI-EL-ORG.cer"

// PlatformURL is the IGC-Santé ordering platform (PFCNG).
const PlatformURL = "https://pfc.eservices.esante.gouv.fr/pfcng-ihm/authentication.xhtml"

// CA is one of the embedded IGC-Santé CA certificates.
type CA struct {
	// File is the name the Agence du Numérique en Santé publishes it under.
	File      string            `json:"file"`
	Hierarchy Hierarchy         `json:"hierarchy"`
	Root      bool              `json:"root"`
	SHA256    string            `json:"sha256"`
	Cert      *x509.Certificate `json:"-"`
}

//go:embed igcsante/*.cer
var igcFiles embed.FS

var igcEmbedded = []struct {
	file      string
	hierarchy Hierarchy
	root      bool
}{
	{"ACR-EL.cer", HierarchyProduction, true},
	{"ACI-EL-ORG.cer", HierarchyProduction, false},
	{"ACR-EL-TEST.cer", HierarchyTest, true},
	{"ACI-EL-ORG-TEST.cer", HierarchyTest, false},
}

// The CAs are parsed on first use, not at init, so that commands that never
// need them (--version, csr) start without the cost.
var loadCAs = sync.OnceValue(func() []CA {
	out := make([]CA, 0, len(igcEmbedded))
	for _, e := range igcEmbedded {
		der, err := igcFiles.ReadFile("igcsante/" + e.file)
		if err != nil {
			panic(fmt.Sprintf("embedded %s missing: %v", e.file, err))
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			panic(fmt.Sprintf("embedded %s does not parse: %v", e.file, err))
		}
		sum := sha256.Sum256(der)
		out = append(out, CA{File: e.file, Hierarchy: e.hierarchy, Root: e.root, SHA256: Fingerprint(sum[:]), Cert: c})
	}
	return out
})

// IGCSanteCAs returns the four embedded IGC-Santé CAs: production root and
// intermediate, then TEST root and intermediate.
func IGCSanteCAs() []CA {
	return append([]CA(nil), loadCAs()...)
}

// Fingerprint formats a digest the way openssl and the ANS publish them (AB:CD:…).
func Fingerprint(sum []byte) string {
	const hexdigits = "0123456789ABCDEF"
	b := make([]byte, 0, len(sum)*3)
	for i, v := range sum {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, hexdigits[v>>4], hexdigits[v&0x0f])
	}
	return string(b)
}

// HierarchyOf places a certificate: lab by its policy marker, IGC-Santé
// production or TEST by the OU of its issuer's DN tail, other otherwise.
func HierarchyOf(c *x509.Certificate) Hierarchy {
	for _, oid := range c.Policies {
		if oid.Equal(LabPolicyOID) {
			return HierarchyLab
		}
	}
	return hierarchyOfName(c.Issuer.Organization, c.Issuer.OrganizationalUnit)
}

func hierarchyOfName(org, ous []string) Hierarchy {
	if len(org) != 1 || org[0] != igcOrganisation {
		return HierarchyOther
	}
	for _, ou := range ous {
		switch ou {
		case igcOUTest:
			return HierarchyTest
		case igcOUProduction:
			return HierarchyProduction
		}
	}
	return HierarchyOther
}
