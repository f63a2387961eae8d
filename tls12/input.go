package tls12

// maxIgnoredRecords bounds the inputs in a row that carry nothing a reader
// can use (warning alerts, empty application data, HelloRequests ignored
// while negotiating, refused renegotiations), so that a peer cannot keep a
// reader busy without progress.
const maxIgnoredRecords = 32

type eventKind uint8

const (
	eventHandshake eventKind = iota + 1
	eventChangeCipherSpec
	eventApplicationData
)

// event is the peer's next input: a whole handshake message (header
// included) or a ChangeCipherSpec, with the transition stateMachine gives it,
// or application data.
type event struct {
	kind eventKind
	data []byte
	tr   *transition
}

// nextEvent reads records until the peer's next input, enforcing
// stateMachine in state c.wait and the record rules listed with it. The
// caller holds c.in.
func (c *Conn) nextEvent() (event, error) {
	for {
		st := c.wait
		if len(c.hsIn) > 0 {
			// Checked from the first byte, before the body is buffered.
			in := msg(handshakeType(c.hsIn[0]))
			tr := st.transition(in)
			if tr == nil {
				return event{}, st.unexpected(in.String())
			}
			raw, ok, err := c.nextBufferedMessage()
			if err != nil {
				return event{}, err
			}
			if ok {
				// The caller knows whether the message counts as progress.
				return event{kind: eventHandshake, data: raw, tr: tr}, nil
			}
		}
		typ, body, err := c.readRecord()
		if err != nil {
			return event{}, err
		}
		partial := len(c.hsIn) > 0
		if len(body) == 0 && typ != recordApplicationData {
			// RFC 5246 §6.2.1: zero-length fragments of these types must
			// not be sent.
			return event{}, alertf(AlertUnexpectedMessage, "empty %s record", typ)
		}
		switch typ {
		case recordHandshake:
			c.hsIn = append(c.hsIn, body...)
		case recordChangeCipherSpec:
			if partial {
				return event{}, c.interleaved(typ)
			}
			tr := st.transition(inputChangeCipherSpec)
			if tr == nil {
				return event{}, st.unexpected("ChangeCipherSpec")
			}
			if len(body) != 1 || body[0] != 1 {
				return event{}, alertf(AlertDecodeError, "malformed ChangeCipherSpec %x", body)
			}
			c.ignored = 0
			return event{kind: eventChangeCipherSpec, tr: tr}, nil
		case recordAlert:
			// A fatal alert or close_notify ends the connection whatever
			// the state: the peer's reason is worth more than ours.
			if err := c.handleAlert(body); err != nil {
				return event{}, err
			}
			if partial {
				return event{}, c.interleaved(typ)
			}
			if err := c.countIgnored("warning alerts"); err != nil {
				return event{}, err
			}
		case recordApplicationData:
			if partial {
				return event{}, c.interleaved(typ)
			}
			if !stateMachine[st].appData {
				return event{}, st.unexpected("application data")
			}
			if len(body) == 0 {
				if err := c.countIgnored("empty application_data records"); err != nil {
					return event{}, err
				}
				continue
			}
			c.ignored = 0
			return event{kind: eventApplicationData, data: body}, nil
		}
	}
}

func (c *Conn) interleaved(typ recordType) error {
	return alertf(AlertUnexpectedMessage, "%s record inside a %s message (%d bytes of it received)", typ, handshakeType(c.hsIn[0]), len(c.hsIn))
}

func (c *Conn) countIgnored(what string) error {
	c.ignored++
	if c.ignored > maxIgnoredRecords {
		return alertf(AlertUnexpectedMessage, "more than %d %s in a row", maxIgnoredRecords, what)
	}
	return nil
}

// nextBufferedMessage cuts one whole message off c.hsIn, if there is one,
// refusing a length over the limit as soon as the header is complete.
func (c *Conn) nextBufferedMessage() ([]byte, bool, error) {
	if len(c.hsIn) < 4 {
		return nil, false, nil
	}
	n := int(c.hsIn[1])<<16 | int(c.hsIn[2])<<8 | int(c.hsIn[3])
	if limit := c.config.maxHandshakeMessage(); n > limit {
		return nil, false, alertf(AlertIllegalParameter, "%s of %d bytes exceeds the %d-byte limit", handshakeType(c.hsIn[0]), n, limit)
	}
	if len(c.hsIn) < 4+n {
		return nil, false, nil
	}
	raw := c.hsIn[: 4+n : 4+n]
	c.hsIn = c.hsIn[4+n:]
	if len(c.hsIn) == 0 {
		// Let the reassembly buffer go rather than pin a large message.
		c.hsIn = nil
	}
	return raw, true, nil
}

// receive returns the peer's next handshake input as stateMachine allows it
// in the current state: a parsed message, added to the transcript, or nil
// for a ChangeCipherSpec, after which the reading side uses the new keys.
// Ignored messages are traced and skipped.
func (hs *handshake) receive() (handshakeMessage, error) {
	c := hs.c
	for {
		ev, err := c.nextEvent()
		if err != nil {
			return nil, err
		}
		if ev.kind != eventHandshake && ev.kind != eventChangeCipherSpec || ev.tr.action == refuse {
			// The table allows neither in a handshake state.
			return nil, alertf(AlertInternalError, "state machine let an input of kind %d through while %s", ev.kind, c.wait)
		}
		if ev.kind == eventChangeCipherSpec {
			c.traceChangeCipherSpec(Received)
			if err := c.in.changeCipher(); err != nil {
				return nil, err
			}
			hs.last = ev.tr
			return nil, nil
		}
		m, err := parseMessage(ev.data)
		c.traceMessage(Received, ev.data, m)
		if err != nil {
			return nil, alertf(AlertDecodeError, "%w", err)
		}
		if ev.tr.action == ignore {
			if err := c.countIgnored("HelloRequests while negotiating"); err != nil {
				return nil, err
			}
			continue
		}
		c.ignored = 0
		hs.addTranscript(ev.data)
		hs.last = ev.tr
		return m, nil
	}
}

// expect receives the next message, which the current state allows only as
// a T.
func expect[T handshakeMessage](hs *handshake) (T, error) {
	m, err := hs.receive()
	t, ok := m.(T)
	if err == nil && !ok {
		err = alertf(AlertInternalError, "state machine let %s through while %s, where the handshake code wants %T", describe(m), hs.c.wait, t)
	}
	return t, err
}

func describe(m handshakeMessage) string {
	if m == nil {
		return "ChangeCipherSpec"
	}
	return m.msgType().String()
}

// expectChangeCipherSpec receives the peer's ChangeCipherSpec, the only
// input the current state allows.
func (hs *handshake) expectChangeCipherSpec() error {
	m, err := hs.receive()
	if err == nil && m != nil {
		err = alertf(AlertInternalError, "state machine let %s through while %s", describe(m), hs.c.wait)
	}
	return err
}

// readPostHandshake reads one input after the handshake: application data
// into c.appIn, or a renegotiation request, refused. The caller holds c.in.
func (c *Conn) readPostHandshake() error {
	ev, err := c.nextEvent()
	if err != nil {
		return err
	}
	if ev.kind == eventApplicationData {
		c.appIn = ev.data
		return nil
	}
	m, err := parseMessage(ev.data)
	c.traceMessage(Received, ev.data, m)
	if err != nil {
		return alertf(AlertDecodeError, "%w", err)
	}
	if ev.tr.action != refuse {
		return alertf(AlertInternalError, "state machine let %s through while %s", describe(m), c.wait)
	}
	if err := c.countIgnored("renegotiation requests"); err != nil {
		return err
	}
	c.out.Lock()
	defer c.out.Unlock()
	return c.sendAlertLocked(LevelWarning, AlertNoRenegotiation)
}
