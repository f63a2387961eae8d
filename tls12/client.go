package tls12

import (
	"crypto/ecdh"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"time"
)

// client runs the client side of RFC 5246 §7.3 with ECDHE_RSA key exchange.
func (hs *handshake) client() error {
	cfg := hs.c.config
	hs.at("preparing ClientHello")
	suites, err := cfg.suites()
	if err != nil {
		return err
	}
	groups, err := cfg.groups()
	if err != nil {
		return err
	}
	hs.clientRandom = make([]byte, randomLen)
	if _, err := io.ReadFull(cfg.rand(), hs.clientRandom); err != nil {
		return fmt.Errorf("client random: %w", err)
	}
	hello := &clientHelloMsg{
		version:      versionTLS12,
		random:       hs.clientRandom,
		compressions: []uint8{compressionNull},
		groups:       groups,
		pointFormats: []uint8{pointFormatUncompressed},
		sigSchemes:   supportedSchemes,
		etm:          !cfg.DisableEncryptThenMAC,
		ems:          !cfg.DisableEMS,
		// An empty renegotiation_info says "first handshake, RFC 5746
		// aware"; OpenSSL servers refuse clients that do not say it.
		secureReneg: true,
	}
	for _, s := range suites {
		hello.cipherSuites = append(hello.cipherSuites, s.id)
	}
	// RFC 6066 §3: literal IP addresses are not permitted in server_name.
	if cfg.ServerName != "" && net.ParseIP(cfg.ServerName) == nil {
		hello.serverName = cfg.ServerName
	}
	hs.state.ServerName = hello.serverName
	hs.at("sending ClientHello")
	if err := hs.send(hello); err != nil {
		return err
	}
	if err := hs.flush(); err != nil {
		return err
	}
	// The key share for the group we prefer is made while the server works
	// on its flight, which takes it off the critical path of the handshake.
	var priv *ecdh.PrivateKey
	if curve, ok := groups[0].curve(); ok {
		if priv, err = curve.GenerateKey(cfg.rand()); err != nil {
			return alertf(AlertInternalError, "ECDHE key: %w", err)
		}
	}

	hs.at("reading ServerHello")
	sh, err := expect[*serverHelloMsg](hs)
	if err != nil {
		return err
	}
	if err := hs.acceptServerHello(hello, sh); err != nil {
		return err
	}
	if err := hs.moveTo(clientAwaitServerCertificate); err != nil {
		return err
	}

	hs.at("reading server Certificate")
	certMsg, err := expect[*certificateMsg](hs)
	if err != nil {
		return err
	}
	certs := certMsg.certificates
	if len(certs) == 0 {
		return alertf(AlertHandshakeFailure, "server sent no certificate, which ECDHE_RSA requires")
	}
	chain, err := parseChain(certs)
	if err != nil {
		return err
	}
	serverKey, ok := chain[0].PublicKey.(*rsa.PublicKey)
	if !ok {
		return alertf(AlertUnsupportedCertificate, "server certificate has a %T key; ECDHE_RSA needs RSA", chain[0].PublicKey)
	}
	hs.state.PeerCertificates = chain
	hs.publish()
	if err := hs.moveTo(clientAwaitServerKeyExchange); err != nil {
		return err
	}

	hs.at("reading ServerKeyExchange")
	ske, err := expect[*serverKeyExchangeMsg](hs)
	if err != nil {
		return err
	}
	if !slices.Contains(groups, ske.group) {
		return alertf(AlertIllegalParameter, "server chose group %s, which was not offered", ske.group)
	}
	if !slices.Contains(hello.sigSchemes, ske.scheme) || !fitsKey(ske.scheme, serverKey) {
		return alertf(AlertIllegalParameter, "server signed with %s, which was not offered or does not fit its RSA key", ske.scheme)
	}
	hs.at("verifying ServerKeyExchange signature")
	signed := concat(hs.clientRandom, hs.serverRandom, ske.params())
	if err := verifyMessage(serverKey, ske.scheme, signed, ske.signature); err != nil {
		return alertf(AlertDecryptError, "ServerKeyExchange signature (%s) does not verify with the server certificate's key: %w", ske.scheme, err)
	}
	hs.state.Group, hs.state.ServerSignatureScheme = ske.group, ske.scheme
	hs.publish()
	if err := hs.verifyPeer(chain); err != nil {
		return err
	}
	if err := hs.moveTo(clientAwaitCertificateRequestOrDone); err != nil {
		return err
	}

	hs.at("reading CertificateRequest or ServerHelloDone")
	m, err := hs.receive()
	if err != nil {
		return err
	}
	req, requested := m.(*certificateRequestMsg)
	if requested {
		hs.state.CertificateRequested = true
		hs.state.RequestedCAs = req.authorities
		hs.state.RequestedSignatureSchemes = req.sigSchemes
		hs.publish()
		if err := hs.moveTo(clientAwaitServerHelloDone); err != nil {
			return err
		}
		hs.at("reading ServerHelloDone")
		if _, err := expect[*serverHelloDoneMsg](hs); err != nil {
			return err
		}
	} else if _, ok := m.(*serverHelloDoneMsg); !ok {
		return alertf(AlertInternalError, "state machine let %s through while %s", describe(m), hs.c.wait)
	}
	if err := hs.moveTo(clientAwaitChangeCipherSpec); err != nil {
		return err
	}

	var cert *Certificate
	if requested {
		hs.at("choosing client certificate")
		if cert, err = hs.chooseClientCertificate(req); err != nil {
			return err
		}
		hs.at("sending client Certificate")
		msg := &certificateMsg{}
		if cert != nil {
			for _, x := range cert.Chain {
				msg.certificates = append(msg.certificates, x.Raw)
			}
		}
		if err := hs.send(msg); err != nil {
			return err
		}
	}

	hs.at("sending ClientKeyExchange")
	if curve, _ := ske.group.curve(); priv == nil || priv.Curve() != curve {
		if priv, err = curve.GenerateKey(cfg.rand()); err != nil {
			return alertf(AlertInternalError, "ECDHE key: %w", err)
		}
	}
	if err := hs.send(&clientKeyExchangeMsg{point: priv.PublicKey().Bytes()}); err != nil {
		return err
	}
	if cert != nil {
		// The server can check our chain and derive its keys while we sign
		// the CertificateVerify: against a server that verifies certificates
		// slowly (OpenSSL takes about 1 ms for a 3-deep chain) this shortens
		// the handshake by that much.
		if err := hs.flush(); err != nil {
			return err
		}
	}
	shared, err := ecdhShared(priv, ske.point)
	if err != nil {
		return err
	}
	if err := hs.establishKeys(shared); err != nil {
		return err
	}

	if cert != nil {
		hs.at("sending CertificateVerify")
		scheme, ok := pickScheme(req.sigSchemes, cert.Key.Public())
		if !ok {
			return alertf(AlertHandshakeFailure, "server accepts none of our signature schemes for a %T key (it asked for %s)",
				cert.Key.Public(), joinMap(req.sigSchemes, SignatureScheme.String))
		}
		sig, err := signMessage(cert.Key, cfg.rand(), scheme, hs.transcript)
		if err != nil {
			return alertf(AlertInternalError, "signing CertificateVerify: %w", err)
		}
		if err := hs.send(&certificateVerifyMsg{scheme: scheme, signature: sig}); err != nil {
			return err
		}
		hs.state.ClientSignatureScheme = scheme
	}
	if err := hs.sendFinished("client finished"); err != nil {
		return hs.peerReason(err)
	}
	if err := hs.readFinished("server finished", clientAwaitFinished, clientConnected); err != nil {
		return err
	}
	hs.state.HandshakeComplete = true
	hs.publish()
	return nil
}

// acceptServerHello checks the server's choices against what was offered.
func (hs *handshake) acceptServerHello(hello *clientHelloMsg, sh *serverHelloMsg) error {
	if sh.version != versionTLS12 {
		return alertf(AlertProtocolVersion, "server chose %s; only TLS1.2 is spoken here", versionName(sh.version))
	}
	hs.c.versionFixed = true
	if !slices.Contains(hello.cipherSuites, sh.cipherSuite) {
		return alertf(AlertIllegalParameter, "server chose cipher suite %s, which was not offered", CipherSuiteName(sh.cipherSuite))
	}
	if sh.compression != compressionNull {
		return alertf(AlertIllegalParameter, "server chose compression method %d, which was not offered", sh.compression)
	}
	offered := []uint16{extPointFormats, extSupportedGroups, extSignatureAlgorithms, extRenegotiationInfo}
	if hello.serverName != "" {
		offered = append(offered, extServerName)
	}
	if hello.etm {
		offered = append(offered, extEncryptThenMAC)
	}
	if hello.ems {
		offered = append(offered, extExtendedMasterSecret)
	}
	for _, t := range sh.extensions {
		if !slices.Contains(offered, t) {
			return alertf(AlertUnsupportedExtension, "server sent extension %s, which was not offered", extensionName(t))
		}
	}
	hs.setSuite(suiteByID(sh.cipherSuite))
	if sh.etm && hs.suite.aead {
		return alertf(AlertIllegalParameter, "server chose encrypt_then_mac with the AEAD suite %s", hs.suite.name)
	}
	if len(sh.renegInfo) != 0 {
		return alertf(AlertHandshakeFailure, "server's renegotiation_info is not empty on a first handshake")
	}
	if sh.pointFormats != nil && !slices.Contains(sh.pointFormats, pointFormatUncompressed) {
		return alertf(AlertIllegalParameter, "server does not accept uncompressed EC points")
	}
	hs.serverRandom = sh.random
	hs.state.Version = sh.version
	hs.state.CipherSuite, hs.state.CipherSuiteName = hs.suite.id, hs.suite.name
	hs.state.ExtendedMasterSecret = sh.ems
	hs.state.EncryptThenMAC = sh.etm
	hs.state.SecureRenegotiation = sh.secureReneg
	hs.publish()
	return nil
}

// chooseClientCertificate asks the configuration for a certificate matching
// the server's request; nil means an empty Certificate message.
func (hs *handshake) chooseClientCertificate(req *certificateRequestMsg) (*Certificate, error) {
	info := &CertificateRequestInfo{
		AcceptableCAs:    req.authorities,
		SignatureSchemes: req.sigSchemes,
		CertificateTypes: req.certificateTypes,
	}
	cert, err := hs.c.config.clientCertificate(info)
	if err != nil {
		return nil, alertf(AlertInternalError, "choosing a client certificate: %w", err)
	}
	if cert == nil || len(cert.Chain) == 0 {
		return nil, nil
	}
	if err := cert.check(); err != nil {
		return nil, alertf(AlertInternalError, "client certificate: %w", err)
	}
	return cert, nil
}

// peerReasonWait bounds the wait for an alert after a failed write.
const peerReasonWait = 200 * time.Millisecond

// peerReason returns the alert the server sent before a write to it failed,
// if one can still be read, or else err. A server that refuses our
// Certificate on arrival and resets the connection makes the rest of our
// flight fail with a broken pipe; its alert says why.
func (hs *handshake) peerReason(err error) error {
	var pe *protocolError
	if errors.As(err, &pe) || errors.Is(err, os.ErrDeadlineExceeded) {
		// Our own error, or the handshake's time is up.
		return err
	}
	c := hs.c
	c.conn.SetReadDeadline(time.Now().Add(peerReasonWait))
	defer c.conn.SetReadDeadline(time.Time{})
	if typ, body, rerr := c.readRecord(); rerr == nil && typ == recordAlert {
		if aerr := c.handleAlert(body); aerr != nil {
			return aerr
		}
	}
	return err
}
