package tls12

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"io"
	"slices"
)

// server runs the server side of RFC 5246 §7.3 with ECDHE_RSA key exchange.
func (hs *handshake) server() error {
	c, cfg := hs.c, hs.c.config
	hs.at("checking server configuration")
	suites, err := cfg.suites()
	if err != nil {
		return err
	}
	groups, err := cfg.groups()
	if err != nil {
		return err
	}
	if len(cfg.Certificates) == 0 {
		return fmt.Errorf("server has no certificate")
	}
	cert := &cfg.Certificates[0]
	if err := cert.check(); err != nil {
		return err
	}
	if _, ok := cert.Key.Public().(*rsa.PublicKey); !ok {
		return fmt.Errorf("server key is a %T; ECDHE_RSA suites need RSA", cert.Key.Public())
	}

	hs.at("reading ClientHello")
	ch, err := expect[*clientHelloMsg](hs)
	if err != nil {
		return err
	}
	c.versionFixed = true
	hs.at("negotiating")
	sh, err := hs.negotiate(ch, suites, groups, cert)
	if err != nil {
		return err
	}

	hs.at("sending ServerHello")
	if err := hs.send(sh); err != nil {
		return err
	}
	hs.at("sending server Certificate")
	chainMsg := &certificateMsg{}
	for _, x := range cert.Chain {
		chainMsg.certificates = append(chainMsg.certificates, x.Raw)
	}
	if err := hs.send(chainMsg); err != nil {
		return err
	}

	hs.at("sending ServerKeyExchange")
	curve, _ := hs.state.Group.curve()
	priv, err := curve.GenerateKey(cfg.rand())
	if err != nil {
		return alertf(AlertInternalError, "ECDHE key: %w", err)
	}
	ske := &serverKeyExchangeMsg{group: hs.state.Group, point: priv.PublicKey().Bytes(), scheme: hs.state.ServerSignatureScheme}
	ske.signature, err = signMessage(cert.Key, cfg.rand(), ske.scheme, concat(hs.clientRandom, hs.serverRandom, ske.params()))
	if err != nil {
		return alertf(AlertInternalError, "signing ServerKeyExchange: %w", err)
	}
	if err := hs.send(ske); err != nil {
		return err
	}

	var req *certificateRequestMsg
	next := serverAwaitClientKeyExchange
	if cfg.ClientAuth != NoClientCert {
		hs.at("sending CertificateRequest")
		req = &certificateRequestMsg{
			certificateTypes: []uint8{certTypeRSASign, certTypeECDSASign},
			sigSchemes:       supportedSchemes,
			authorities:      cfg.ClientCAs,
		}
		if err := hs.send(req); err != nil {
			return err
		}
		next = serverAwaitClientCertificate
	}
	if err := hs.moveTo(next); err != nil {
		return err
	}
	hs.at("sending ServerHelloDone")
	if err := hs.send(&serverHelloDoneMsg{}); err != nil {
		return err
	}
	if err := hs.flush(); err != nil {
		return err
	}

	return hs.readClientFlight(req, priv)
}

// negotiate picks the suite (server preference), group, signature scheme and
// extensions, and builds the ServerHello.
func (hs *handshake) negotiate(ch *clientHelloMsg, suites []*cipherSuite, groups []Group, cert *Certificate) (*serverHelloMsg, error) {
	cfg := hs.c.config
	// A client offering more than TLS 1.2 gets 1.2; a TLS 1.3 client signals
	// 1.3 in supported_versions, which is ignored here.
	if ch.version < versionTLS12 {
		return nil, alertf(AlertProtocolVersion, "client offers at most %s; only TLS1.2 is spoken here", versionName(ch.version))
	}
	if !slices.Contains(ch.compressions, compressionNull) {
		return nil, alertf(AlertIllegalParameter, "client does not offer the null compression method")
	}
	if len(ch.renegInfo) != 0 {
		return nil, alertf(AlertHandshakeFailure, "client's renegotiation_info is not empty on a first handshake")
	}
	i := slices.IndexFunc(suites, func(s *cipherSuite) bool { return slices.Contains(ch.cipherSuites, s.id) })
	if i < 0 {
		return nil, alertf(AlertHandshakeFailure, "no cipher suite in common: client offered %s", joinMap(ch.cipherSuites, CipherSuiteName))
	}
	hs.setSuite(suites[i])
	// RFC 8422 §4: without supported_groups the client takes any curve; an
	// old client that omits it most likely knows P-256.
	group := groups[0]
	if slices.Contains(groups, P256) {
		group = P256
	}
	if ch.groups != nil {
		i := slices.IndexFunc(groups, func(g Group) bool { return slices.Contains(ch.groups, g) })
		if i < 0 {
			return nil, alertf(AlertHandshakeFailure, "no ECDHE group in common: client offered %s", joinMap(ch.groups, Group.String))
		}
		group = groups[i]
	}
	if ch.pointFormats != nil && !slices.Contains(ch.pointFormats, pointFormatUncompressed) {
		return nil, alertf(AlertIllegalParameter, "client does not accept uncompressed EC points")
	}
	// RFC 5246 §7.4.1.4.1: no signature_algorithms means SHA-1 only, which
	// is not implemented.
	if ch.sigSchemes == nil {
		return nil, alertf(AlertHandshakeFailure, "client sent no signature_algorithms, which means SHA-1 signatures only; they are not implemented")
	}
	scheme, ok := pickScheme(ch.sigSchemes, cert.Key.Public())
	if !ok {
		return nil, alertf(AlertHandshakeFailure, "no signature scheme in common for an RSA key: client offered [%s]", joinMap(ch.sigSchemes, SignatureScheme.String))
	}

	hs.clientRandom = ch.random
	// The random is wholly random: the TLS 1.3 downgrade sentinel must not
	// appear, as this server speaks only TLS 1.2.
	hs.serverRandom = make([]byte, randomLen)
	if _, err := io.ReadFull(cfg.rand(), hs.serverRandom); err != nil {
		return nil, fmt.Errorf("server random: %w", err)
	}
	secure := ch.secureReneg || slices.Contains(ch.cipherSuites, scsvRenegotiation)
	sh := &serverHelloMsg{
		version:     versionTLS12,
		random:      hs.serverRandom,
		cipherSuite: hs.suite.id,
		compression: compressionNull,
		ems:         ch.ems && !cfg.DisableEMS,
		// RFC 7366 §3: encrypt_then_mac only applies to CBC suites.
		etm:         ch.etm && !hs.suite.aead && !cfg.DisableEncryptThenMAC,
		secureReneg: secure,
	}
	if ch.pointFormats != nil {
		sh.pointFormats = []uint8{pointFormatUncompressed}
	}
	hs.state = ConnectionState{
		Version:               versionTLS12,
		CipherSuite:           hs.suite.id,
		CipherSuiteName:       hs.suite.name,
		ExtendedMasterSecret:  sh.ems,
		EncryptThenMAC:        sh.etm,
		SecureRenegotiation:   secure,
		ServerName:            ch.serverName,
		Group:                 group,
		ServerSignatureScheme: scheme,
	}
	hs.publish()
	return sh, nil
}

// readClientFlight reads the client's Certificate, ClientKeyExchange,
// CertificateVerify, ChangeCipherSpec and Finished, then answers.
func (hs *handshake) readClientFlight(req *certificateRequestMsg, priv *ecdh.PrivateKey) error {
	cfg := hs.c.config
	var chain []*x509.Certificate
	if req != nil {
		hs.at("reading client Certificate")
		certMsg, err := expect[*certificateMsg](hs)
		if err != nil {
			return err
		}
		certs := certMsg.certificates
		if len(certs) == 0 && cfg.ClientAuth == RequireClientCert {
			return alertf(AlertHandshakeFailure, "client sent no certificate, and one is required")
		}
		if chain, err = parseChain(certs); err != nil {
			return err
		}
		if len(chain) > 0 {
			switch chain[0].PublicKey.(type) {
			case *rsa.PublicKey, *ecdsa.PublicKey:
			default:
				return alertf(AlertUnsupportedCertificate, "client certificate has a %T key", chain[0].PublicKey)
			}
		}
		hs.state.PeerCertificates = chain
		hs.publish()
		if err := hs.moveTo(serverAwaitClientKeyExchange); err != nil {
			return err
		}
	}

	hs.at("reading ClientKeyExchange")
	cke, err := expect[*clientKeyExchangeMsg](hs)
	if err != nil {
		return err
	}
	next := serverAwaitChangeCipherSpec
	if len(chain) > 0 {
		next = serverAwaitCertificateVerify
	}
	if err := hs.moveTo(next); err != nil {
		return err
	}
	shared, err := ecdhShared(priv, cke.point)
	if err != nil {
		return err
	}
	if err := hs.establishKeys(shared); err != nil {
		return err
	}

	if len(chain) > 0 {
		hs.at("reading CertificateVerify")
		signed := hs.transcript
		cv, err := expect[*certificateVerifyMsg](hs)
		if err != nil {
			return err
		}
		if !slices.Contains(req.sigSchemes, cv.scheme) || !fitsKey(cv.scheme, chain[0].PublicKey) {
			return alertf(AlertIllegalParameter, "client signed with %s, which was not requested or does not fit its %T key", cv.scheme, chain[0].PublicKey)
		}
		hs.at("verifying CertificateVerify signature")
		if err := verifyMessage(chain[0].PublicKey, cv.scheme, signed, cv.signature); err != nil {
			return alertf(AlertDecryptError, "CertificateVerify signature (%s) does not verify with the client certificate's key: %w", cv.scheme, err)
		}
		hs.state.ClientSignatureScheme = cv.scheme
		hs.publish()
		if err := hs.moveTo(serverAwaitChangeCipherSpec); err != nil {
			return err
		}
	}
	if req != nil {
		if err := hs.verifyPeer(chain); err != nil {
			return err
		}
	}

	if err := hs.readFinished("client finished", serverAwaitFinished, serverConnected); err != nil {
		return err
	}
	if err := hs.sendFinished("server finished"); err != nil {
		return err
	}
	hs.state.HandshakeComplete = true
	hs.publish()
	return nil
}
