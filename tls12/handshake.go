package tls12

import (
	"crypto/ecdh"
	"crypto/subtle"
	"crypto/x509"
	"errors"
	"fmt"
	"hash"
)

// handshake is the state of one handshake in either role.
type handshake struct {
	c *Conn
	// step names what the handshake is doing, for HandshakeError.
	step string
	// transcript is every handshake message so far, headers included, except
	// HelloRequest (RFC 5246 §7.4.1.1): CertificateVerify signs it with the
	// hash of its signature scheme. prfDigest hashes the same messages with
	// the suite's PRF hash, for the extended master secret and Finished; it
	// starts once the suite is known, from the bytes kept until then.
	transcript   []byte
	prfDigest    hash.Hash
	pending      []byte
	suite        *cipherSuite
	clientRandom []byte
	serverRandom []byte
	master       []byte
	state        ConnectionState
	// last is the transition of the last input received; moveTo checks
	// the next state against it.
	last *transition
}

func (hs *handshake) at(step string) { hs.step = step }

// publish makes the state so far visible to ConnectionState.
func (hs *handshake) publish() { hs.c.setState(hs.state) }

// send queues a handshake message for the next flush.
func (hs *handshake) send(m handshakeMessage) error {
	raw, err := marshalMessage(m)
	if err != nil {
		return alertf(AlertInternalError, "%w", err)
	}
	hs.c.traceMessage(Sent, raw, m)
	hs.addTranscript(raw)
	hs.pending = append(hs.pending, raw...)
	return nil
}

// addTranscript adds a sent or accepted message to the transcript.
func (hs *handshake) addTranscript(raw []byte) {
	hs.transcript = append(hs.transcript, raw...)
	if hs.prfDigest != nil {
		hs.prfDigest.Write(raw)
	}
}

// setSuite fixes the suite and starts the running PRF-hash of the
// transcript.
func (hs *handshake) setSuite(s *cipherSuite) {
	hs.suite = s
	hs.prfDigest = s.prfHash.New()
	hs.prfDigest.Write(hs.transcript)
}

// transcriptHash is the PRF hash of the messages so far.
func (hs *handshake) transcriptHash() []byte { return hs.prfDigest.Sum(nil) }

// queue turns pending handshake messages into records; several messages
// share a record and a long one spans several.
func (hs *handshake) queue() error {
	if len(hs.pending) == 0 {
		return nil
	}
	err := hs.c.appendRecords(recordHandshake, hs.pending)
	hs.pending = nil
	return err
}

// flush sends the flight built so far in one write.
func (hs *handshake) flush() error {
	if err := hs.queue(); err != nil {
		return err
	}
	return hs.c.flush()
}

// sendChangeCipherSpec switches the writing side to the new keys.
func (hs *handshake) sendChangeCipherSpec() error {
	if err := hs.queue(); err != nil {
		return err
	}
	hs.c.traceChangeCipherSpec(Sent)
	if err := hs.c.appendRecords(recordChangeCipherSpec, []byte{1}); err != nil {
		return err
	}
	return hs.c.out.changeCipher()
}

// establishKeys computes the master secret from the ECDHE shared secret and
// readies both directions' ciphers for ChangeCipherSpec.
func (hs *handshake) establishKeys(preMaster []byte) error {
	s := hs.suite
	hs.master = masterSecret(s, preMaster, hs.clientRandom, hs.serverRandom, hs.transcriptHash(), hs.state.ExtendedMasterSecret)
	if w := hs.c.config.KeyLogWriter; w != nil {
		if _, err := fmt.Fprintf(w, "CLIENT_RANDOM %x %x\n", hs.clientRandom, hs.master); err != nil {
			return alertf(AlertInternalError, "writing key log: %w", err)
		}
	}
	kb := deriveKeys(s, hs.master, hs.clientRandom, hs.serverRandom)
	etm := hs.state.EncryptThenMAC
	client, err := s.newCipher(s, kb.clientKey, kb.clientMAC, kb.clientIV, etm)
	if err != nil {
		return alertf(AlertInternalError, "%w", err)
	}
	server, err := s.newCipher(s, kb.serverKey, kb.serverMAC, kb.serverIV, etm)
	if err != nil {
		return alertf(AlertInternalError, "%w", err)
	}
	if hs.c.isClient {
		hs.c.out.pending, hs.c.in.pending = client, server
	} else {
		hs.c.out.pending, hs.c.in.pending = server, client
	}
	return nil
}

// sendFinished sends ChangeCipherSpec and Finished and flushes the flight.
func (hs *handshake) sendFinished(label string) error {
	hs.at("sending ChangeCipherSpec")
	if err := hs.sendChangeCipherSpec(); err != nil {
		return err
	}
	hs.at("sending Finished")
	if err := hs.send(&finishedMsg{verifyData: finishedData(hs.suite, hs.master, label, hs.transcriptHash())}); err != nil {
		return err
	}
	return hs.flush()
}

// readFinished reads the peer's ChangeCipherSpec and Finished, checks that
// the peer saw the same handshake, and enters the connected state.
func (hs *handshake) readFinished(label string, awaitFinished, connected hsState) error {
	hs.at("reading ChangeCipherSpec")
	if err := hs.expectChangeCipherSpec(); err != nil {
		return err
	}
	if err := hs.moveTo(awaitFinished); err != nil {
		return err
	}
	hs.at("reading Finished")
	want := finishedData(hs.suite, hs.master, label, hs.transcriptHash())
	fin, err := expect[*finishedMsg](hs)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(fin.verifyData, want) != 1 {
		return alertf(AlertDecryptError, "peer's Finished does not match the handshake (different keys or a tampered handshake)")
	}
	return hs.moveTo(connected)
}

// parseChain parses the peer's certificates; the engine needs the leaf's key
// to check the peer's signatures, and VerifyPeer gets the whole chain.
func parseChain(ders [][]byte) ([]*x509.Certificate, error) {
	chain := make([]*x509.Certificate, 0, len(ders))
	for i, der := range ders {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, alertf(AlertBadCertificate, "parsing peer certificate %d: %w", i, err)
		}
		chain = append(chain, cert)
	}
	return chain, nil
}

// verifyPeer runs the caller's certificate policy.
func (hs *handshake) verifyPeer(chain []*x509.Certificate) error {
	f := hs.c.config.VerifyPeer
	if f == nil {
		return nil
	}
	hs.at("verifying peer certificate")
	if err := f(chain, hs.state); err != nil {
		return &protocolError{alert: verifyAlert(err), err: err}
	}
	return nil
}

func verifyAlert(err error) AlertDescription {
	var ve *VerifyError
	if errors.As(err, &ve) {
		return ve.Alert
	}
	var ua x509.UnknownAuthorityError
	if errors.As(err, &ua) {
		return AlertUnknownCA
	}
	var inv x509.CertificateInvalidError
	if errors.As(err, &inv) && inv.Reason == x509.Expired {
		return AlertCertificateExpired
	}
	return AlertBadCertificate
}

// ecdhShared completes ECDHE with the peer's public point.
func ecdhShared(priv *ecdh.PrivateKey, point []byte) ([]byte, error) {
	pub, err := priv.Curve().NewPublicKey(point)
	if err != nil {
		return nil, alertf(AlertIllegalParameter, "peer's ECDHE public key: %w", err)
	}
	shared, err := priv.ECDH(pub)
	if err != nil {
		return nil, alertf(AlertIllegalParameter, "ECDHE with the peer's public key: %w", err)
	}
	return shared, nil
}
