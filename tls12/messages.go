package tls12

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
)

type handshakeType uint8

const (
	typeHelloRequest       handshakeType = 0
	typeClientHello        handshakeType = 1
	typeServerHello        handshakeType = 2
	typeCertificate        handshakeType = 11
	typeServerKeyExchange  handshakeType = 12
	typeCertificateRequest handshakeType = 13
	typeServerHelloDone    handshakeType = 14
	typeCertificateVerify  handshakeType = 15
	typeClientKeyExchange  handshakeType = 16
	typeFinished           handshakeType = 20
)

var handshakeNames = map[handshakeType]string{
	typeHelloRequest:       "HelloRequest",
	typeClientHello:        "ClientHello",
	typeServerHello:        "ServerHello",
	typeCertificate:        "Certificate",
	typeServerKeyExchange:  "ServerKeyExchange",
	typeCertificateRequest: "CertificateRequest",
	typeServerHelloDone:    "ServerHelloDone",
	typeCertificateVerify:  "CertificateVerify",
	typeClientKeyExchange:  "ClientKeyExchange",
	typeFinished:           "Finished",
}

func (t handshakeType) String() string {
	if n, ok := handshakeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("HandshakeType(%d)", uint8(t))
}

// Extension types handled here (RFC 6066, 8422, 5246, 7366, 7627, 5746).
const (
	extServerName           uint16 = 0
	extSupportedGroups      uint16 = 10
	extPointFormats         uint16 = 11
	extSignatureAlgorithms  uint16 = 13
	extEncryptThenMAC       uint16 = 22
	extExtendedMasterSecret uint16 = 23
	extRenegotiationInfo    uint16 = 0xff01
)

// extensionNames also names extensions this package ignores, so that a trace
// of a modern ClientHello says what the peer asked for.
var extensionNames = map[uint16]string{
	extServerName:           "server_name",
	5:                       "status_request",
	extSupportedGroups:      "supported_groups",
	extPointFormats:         "ec_point_formats",
	extSignatureAlgorithms:  "signature_algorithms",
	16:                      "application_layer_protocol_negotiation",
	18:                      "signed_certificate_timestamp",
	21:                      "padding",
	extEncryptThenMAC:       "encrypt_then_mac",
	extExtendedMasterSecret: "extended_master_secret",
	28:                      "record_size_limit",
	35:                      "session_ticket",
	43:                      "supported_versions",
	45:                      "psk_key_exchange_modes",
	49:                      "post_handshake_auth",
	50:                      "signature_algorithms_cert",
	51:                      "key_share",
	extRenegotiationInfo:    "renegotiation_info",
}

func extensionName(t uint16) string {
	if n, ok := extensionNames[t]; ok {
		return n
	}
	return fmt.Sprintf("ext(%d)", t)
}

const (
	pointFormatUncompressed uint8 = 0
	curveTypeNamed          uint8 = 3
	certTypeRSASign         uint8 = 1
	certTypeECDSASign       uint8 = 64
	compressionNull         uint8 = 0
)

var (
	errMalformed      = errors.New("malformed handshake message")
	errUnknownMessage = errors.New("unknown handshake message type")
)

type handshakeMessage interface {
	msgType() handshakeType
	marshalBody(b *builder)
	// unmarshalBody marks p failed on any malformation.
	unmarshalBody(p *parser)
	summary() string
}

// marshalMessage returns the message with its 4-byte handshake header.
func marshalMessage(m handshakeMessage) ([]byte, error) {
	b := &builder{}
	b.u8(uint8(m.msgType()))
	b.vec(3, m.marshalBody)
	if b.err != nil {
		return nil, fmt.Errorf("marshalling %s: %w", m.msgType(), b.err)
	}
	return b.b, nil
}

func newMessage(t handshakeType) handshakeMessage {
	switch t {
	case typeHelloRequest:
		return &helloRequestMsg{}
	case typeClientHello:
		return &clientHelloMsg{}
	case typeServerHello:
		return &serverHelloMsg{}
	case typeCertificate:
		return &certificateMsg{}
	case typeServerKeyExchange:
		return &serverKeyExchangeMsg{}
	case typeCertificateRequest:
		return &certificateRequestMsg{}
	case typeServerHelloDone:
		return &serverHelloDoneMsg{}
	case typeCertificateVerify:
		return &certificateVerifyMsg{}
	case typeClientKeyExchange:
		return &clientKeyExchangeMsg{}
	case typeFinished:
		return &finishedMsg{}
	}
	return nil
}

// parseMessage parses one whole handshake message, header included.
func parseMessage(raw []byte) (handshakeMessage, error) {
	if len(raw) < 4 || len(raw)-4 != int(raw[1])<<16|int(raw[2])<<8|int(raw[3]) {
		return nil, errMalformed
	}
	m := newMessage(handshakeType(raw[0]))
	if m == nil {
		return nil, fmt.Errorf("%w %d", errUnknownMessage, raw[0])
	}
	p := &parser{b: raw[4:]}
	m.unmarshalBody(p)
	if !p.ok() {
		return nil, fmt.Errorf("%w: %s", errMalformed, m.msgType())
	}
	return m, nil
}

// extension bodies are parsed by type; each parser must consume its body.
type extensionParser func(ext *parser)

// parseExtensions reads an optional extensions block (absent in old
// hellos), refusing duplicates as RFC 5246 §7.4.1.4 requires.
func parseExtensions(p *parser, known map[uint16]extensionParser) []uint16 {
	if p.empty() {
		return nil
	}
	block := p.sub(2)
	var seen []uint16
	for !block.failed && !block.empty() {
		t := block.u16()
		body := block.sub(2)
		if slices.Contains(seen, t) {
			p.failed = true
		}
		seen = append(seen, t)
		if f, ok := known[t]; ok {
			f(body)
			if !body.ok() {
				p.failed = true
			}
		}
	}
	if block.failed {
		p.failed = true
	}
	return seen
}

func parseU16List(p *parser, f func(uint16)) {
	if p.empty() || len(p.b)%2 != 0 {
		p.failed = true
		return
	}
	for !p.empty() {
		f(p.u16())
	}
}

func writeExtension(b *builder, t uint16, f func(*builder)) {
	b.u16(t)
	b.vec(2, f)
}

type helloRequestMsg struct{}

func (*helloRequestMsg) msgType() handshakeType { return typeHelloRequest }
func (*helloRequestMsg) marshalBody(*builder)   {}
func (*helloRequestMsg) unmarshalBody(*parser)  {}
func (*helloRequestMsg) summary() string        { return "" }

type clientHelloMsg struct {
	version      uint16
	random       []byte
	sessionID    []byte
	cipherSuites []uint16
	compressions []uint8
	serverName   string
	groups       []Group
	pointFormats []uint8
	sigSchemes   []SignatureScheme
	etm          bool
	ems          bool
	// secureReneg says renegotiation_info was present; renegInfo is its
	// content, empty on a first handshake.
	secureReneg bool
	renegInfo   []byte
	// extensions lists the types received, in order, for traces and for
	// answering only what was asked.
	extensions []uint16
}

func (*clientHelloMsg) msgType() handshakeType { return typeClientHello }

func (m *clientHelloMsg) marshalBody(b *builder) {
	b.u16(m.version)
	b.raw(m.random)
	b.bytes8(m.sessionID)
	b.vec(2, func(b *builder) {
		for _, s := range m.cipherSuites {
			b.u16(s)
		}
	})
	b.bytes8(m.compressions)
	exts := &builder{}
	if m.serverName != "" {
		// RFC 6066 §3: a server_name_list holding one host_name.
		writeExtension(exts, extServerName, func(b *builder) {
			b.vec(2, func(b *builder) {
				b.u8(0)
				b.bytes16([]byte(m.serverName))
			})
		})
	}
	if len(m.groups) > 0 {
		writeExtension(exts, extSupportedGroups, func(b *builder) {
			b.vec(2, func(b *builder) {
				for _, g := range m.groups {
					b.u16(uint16(g))
				}
			})
		})
	}
	if len(m.pointFormats) > 0 {
		writeExtension(exts, extPointFormats, func(b *builder) { b.bytes8(m.pointFormats) })
	}
	if len(m.sigSchemes) > 0 {
		writeExtension(exts, extSignatureAlgorithms, func(b *builder) {
			b.vec(2, func(b *builder) {
				for _, s := range m.sigSchemes {
					b.u16(uint16(s))
				}
			})
		})
	}
	if m.etm {
		writeExtension(exts, extEncryptThenMAC, func(*builder) {})
	}
	if m.ems {
		writeExtension(exts, extExtendedMasterSecret, func(*builder) {})
	}
	if m.secureReneg {
		writeExtension(exts, extRenegotiationInfo, func(b *builder) { b.bytes8(m.renegInfo) })
	}
	if exts.err != nil {
		b.err = exts.err
	}
	if len(exts.b) > 0 {
		b.bytes16(exts.b)
	}
}

func (m *clientHelloMsg) unmarshalBody(p *parser) {
	m.version = p.u16()
	m.random = p.take(randomLen)
	m.sessionID = p.vec(1)
	if len(m.sessionID) > 32 {
		p.failed = true
	}
	suites := p.sub(2)
	parseU16List(suites, func(v uint16) { m.cipherSuites = append(m.cipherSuites, v) })
	p.failed = p.failed || !suites.ok()
	m.compressions = p.vec(1)
	if len(m.compressions) == 0 {
		p.failed = true
	}
	m.extensions = parseExtensions(p, map[uint16]extensionParser{
		extServerName: func(e *parser) {
			list := e.sub(2)
			if list.empty() {
				e.failed = true
			}
			for !list.failed && !list.empty() {
				nameType := list.u8()
				name := list.vec(2)
				if nameType == 0 && m.serverName == "" && len(name) > 0 {
					m.serverName = string(name)
				}
			}
			e.failed = e.failed || list.failed
		},
		extSupportedGroups: func(e *parser) {
			list := e.sub(2)
			parseU16List(list, func(v uint16) { m.groups = append(m.groups, Group(v)) })
			e.failed = e.failed || !list.ok()
		},
		extPointFormats: func(e *parser) {
			m.pointFormats = e.vec(1)
			if len(m.pointFormats) == 0 {
				e.failed = true
			}
		},
		extSignatureAlgorithms: func(e *parser) {
			list := e.sub(2)
			parseU16List(list, func(v uint16) { m.sigSchemes = append(m.sigSchemes, SignatureScheme(v)) })
			e.failed = e.failed || !list.ok()
		},
		extEncryptThenMAC:       func(*parser) { m.etm = true },
		extExtendedMasterSecret: func(*parser) { m.ems = true },
		extRenegotiationInfo: func(e *parser) {
			m.secureReneg = true
			m.renegInfo = e.vec(1)
		},
	})
}

func (m *clientHelloMsg) summary() string {
	var s strings.Builder
	fmt.Fprintf(&s, "version=%s suites=[%s]", versionName(m.version), joinMap(m.cipherSuites, CipherSuiteName))
	if m.serverName != "" {
		fmt.Fprintf(&s, " server_name=%s", m.serverName)
	}
	if m.groups != nil {
		fmt.Fprintf(&s, " groups=[%s]", joinMap(m.groups, Group.String))
	}
	if m.sigSchemes != nil {
		fmt.Fprintf(&s, " signature_algorithms=[%s]", joinMap(m.sigSchemes, SignatureScheme.String))
	}
	fmt.Fprintf(&s, " extensions=[%s]", joinMap(m.extensions, extensionName))
	return s.String()
}

type serverHelloMsg struct {
	version      uint16
	random       []byte
	sessionID    []byte
	cipherSuite  uint16
	compression  uint8
	pointFormats []uint8
	// serverNameAck is the empty server_name a server may return when it
	// used the client's name (RFC 6066 §3).
	serverNameAck bool
	etm           bool
	ems           bool
	secureReneg   bool
	renegInfo     []byte
	extensions    []uint16
}

func (*serverHelloMsg) msgType() handshakeType { return typeServerHello }

func (m *serverHelloMsg) marshalBody(b *builder) {
	b.u16(m.version)
	b.raw(m.random)
	b.bytes8(m.sessionID)
	b.u16(m.cipherSuite)
	b.u8(m.compression)
	exts := &builder{}
	if m.serverNameAck {
		writeExtension(exts, extServerName, func(*builder) {})
	}
	if len(m.pointFormats) > 0 {
		writeExtension(exts, extPointFormats, func(b *builder) { b.bytes8(m.pointFormats) })
	}
	if m.etm {
		writeExtension(exts, extEncryptThenMAC, func(*builder) {})
	}
	if m.ems {
		writeExtension(exts, extExtendedMasterSecret, func(*builder) {})
	}
	if m.secureReneg {
		writeExtension(exts, extRenegotiationInfo, func(b *builder) { b.bytes8(m.renegInfo) })
	}
	if len(exts.b) > 0 {
		b.bytes16(exts.b)
	}
}

func (m *serverHelloMsg) unmarshalBody(p *parser) {
	m.version = p.u16()
	m.random = p.take(randomLen)
	m.sessionID = p.vec(1)
	if len(m.sessionID) > 32 {
		p.failed = true
	}
	m.cipherSuite = p.u16()
	m.compression = p.u8()
	m.extensions = parseExtensions(p, map[uint16]extensionParser{
		extServerName: func(e *parser) { m.serverNameAck = true },
		extPointFormats: func(e *parser) {
			m.pointFormats = e.vec(1)
			if len(m.pointFormats) == 0 {
				e.failed = true
			}
		},
		extEncryptThenMAC:       func(*parser) { m.etm = true },
		extExtendedMasterSecret: func(*parser) { m.ems = true },
		extRenegotiationInfo: func(e *parser) {
			m.secureReneg = true
			m.renegInfo = e.vec(1)
		},
	})
}

func (m *serverHelloMsg) summary() string {
	return fmt.Sprintf("version=%s suite=%s extensions=[%s]", versionName(m.version),
		CipherSuiteName(m.cipherSuite), joinMap(m.extensions, extensionName))
}

type certificateMsg struct {
	certificates [][]byte
}

func (*certificateMsg) msgType() handshakeType { return typeCertificate }

func (m *certificateMsg) marshalBody(b *builder) {
	b.vec(3, func(b *builder) {
		for _, c := range m.certificates {
			b.bytes24(c)
		}
	})
}

func (m *certificateMsg) unmarshalBody(p *parser) {
	list := p.sub(3)
	for !list.failed && !list.empty() {
		c := list.vec(3)
		if len(c) == 0 {
			list.failed = true
		}
		m.certificates = append(m.certificates, c)
	}
	p.failed = p.failed || list.failed
}

func (m *certificateMsg) summary() string {
	if len(m.certificates) == 0 {
		return "no certificate"
	}
	s := fmt.Sprintf("%d certificate(s)", len(m.certificates))
	if leaf, err := x509.ParseCertificate(m.certificates[0]); err == nil {
		s += fmt.Sprintf(" subject=%q issuer=%q", leaf.Subject, leaf.Issuer)
	}
	return s
}

// serverKeyExchangeMsg is the ECDHE form of RFC 8422 §5.4, the only key
// exchange this package implements.
type serverKeyExchangeMsg struct {
	group     Group
	point     []byte
	scheme    SignatureScheme
	signature []byte
}

func (*serverKeyExchangeMsg) msgType() handshakeType { return typeServerKeyExchange }

// params is the ServerECDHParams structure, the part covered by the signature.
func (m *serverKeyExchangeMsg) params() []byte {
	b := &builder{}
	b.u8(curveTypeNamed)
	b.u16(uint16(m.group))
	b.bytes8(m.point)
	return b.b
}

func (m *serverKeyExchangeMsg) marshalBody(b *builder) {
	b.raw(m.params())
	b.u16(uint16(m.scheme))
	b.bytes16(m.signature)
}

func (m *serverKeyExchangeMsg) unmarshalBody(p *parser) {
	if p.u8() != curveTypeNamed {
		p.failed = true
	}
	m.group = Group(p.u16())
	m.point = p.vec(1)
	if len(m.point) == 0 {
		p.failed = true
	}
	m.scheme = SignatureScheme(p.u16())
	m.signature = p.vec(2)
}

func (m *serverKeyExchangeMsg) summary() string {
	return fmt.Sprintf("group=%s signature=%s", m.group, m.scheme)
}

type certificateRequestMsg struct {
	certificateTypes []uint8
	sigSchemes       []SignatureScheme
	// authorities are DER-encoded distinguished names.
	authorities [][]byte
}

func (*certificateRequestMsg) msgType() handshakeType { return typeCertificateRequest }

func (m *certificateRequestMsg) marshalBody(b *builder) {
	b.bytes8(m.certificateTypes)
	b.vec(2, func(b *builder) {
		for _, s := range m.sigSchemes {
			b.u16(uint16(s))
		}
	})
	b.vec(2, func(b *builder) {
		for _, dn := range m.authorities {
			b.bytes16(dn)
		}
	})
}

func (m *certificateRequestMsg) unmarshalBody(p *parser) {
	m.certificateTypes = p.vec(1)
	if len(m.certificateTypes) == 0 {
		p.failed = true
	}
	list := p.sub(2)
	parseU16List(list, func(v uint16) { m.sigSchemes = append(m.sigSchemes, SignatureScheme(v)) })
	cas := p.sub(2)
	for !cas.failed && !cas.empty() {
		dn := cas.vec(2)
		if len(dn) == 0 {
			cas.failed = true
		}
		m.authorities = append(m.authorities, dn)
	}
	p.failed = p.failed || !list.ok() || cas.failed
}

func (m *certificateRequestMsg) summary() string {
	return fmt.Sprintf("certificate_types=%v signature_algorithms=[%s] certificate_authorities=[%s]",
		m.certificateTypes, joinMap(m.sigSchemes, SignatureScheme.String), joinMap(m.authorities, dnString))
}

// dnString renders a DER distinguished name for traces; an unparsable one is
// shown in hex so that nothing the peer sent is hidden.
func dnString(der []byte) string {
	var rdn pkix.RDNSequence
	if rest, err := asn1.Unmarshal(der, &rdn); err != nil || len(rest) > 0 {
		return hex.EncodeToString(der)
	}
	var n pkix.Name
	n.FillFromRDNSequence(&rdn)
	return fmt.Sprintf("%q", n.String())
}

type serverHelloDoneMsg struct{}

func (*serverHelloDoneMsg) msgType() handshakeType { return typeServerHelloDone }

func (*serverHelloDoneMsg) marshalBody(*builder)  {}
func (*serverHelloDoneMsg) unmarshalBody(*parser) {}
func (*serverHelloDoneMsg) summary() string       { return "" }

type clientKeyExchangeMsg struct {
	point []byte
}

func (*clientKeyExchangeMsg) msgType() handshakeType   { return typeClientKeyExchange }
func (m *clientKeyExchangeMsg) marshalBody(b *builder) { b.bytes8(m.point) }

func (m *clientKeyExchangeMsg) unmarshalBody(p *parser) {
	m.point = p.vec(1)
	if len(m.point) == 0 {
		p.failed = true
	}
}

func (m *clientKeyExchangeMsg) summary() string {
	return fmt.Sprintf("ecdh public key of %d bytes", len(m.point))
}

type certificateVerifyMsg struct {
	scheme    SignatureScheme
	signature []byte
}

func (*certificateVerifyMsg) msgType() handshakeType { return typeCertificateVerify }

func (m *certificateVerifyMsg) marshalBody(b *builder) {
	b.u16(uint16(m.scheme))
	b.bytes16(m.signature)
}

func (m *certificateVerifyMsg) unmarshalBody(p *parser) {
	m.scheme = SignatureScheme(p.u16())
	m.signature = p.vec(2)
}

func (m *certificateVerifyMsg) summary() string { return fmt.Sprintf("signature=%s", m.scheme) }

type finishedMsg struct {
	verifyData []byte
}

func (*finishedMsg) msgType() handshakeType   { return typeFinished }
func (m *finishedMsg) marshalBody(b *builder) { b.raw(m.verifyData) }

// unmarshalBody insists on 12 bytes: every suite here keeps the default
// verify_data length of RFC 5246 §7.4.9.
func (m *finishedMsg) unmarshalBody(p *parser) { m.verifyData = p.take(finishedLen) }

func (m *finishedMsg) summary() string { return "verify_data=" + hex.EncodeToString(m.verifyData) }

func versionName(v uint16) string {
	switch v {
	case 0x0300:
		return "SSL3.0"
	case 0x0301:
		return "TLS1.0"
	case 0x0302:
		return "TLS1.1"
	case 0x0303:
		return "TLS1.2"
	case 0x0304:
		return "TLS1.3"
	}
	return fmt.Sprintf("0x%04x", v)
}

func joinMap[T any](items []T, f func(T) string) string {
	s := make([]string, len(items))
	for i, it := range items {
		s[i] = f(it)
	}
	return strings.Join(s, " ")
}
