package tls12

import (
	"fmt"
	"slices"
	"strings"
)

// hsState is where a connection stands, named after what it waits for from
// the peer. What this side sends is decided by the handshake code; what the
// peer may send next is decided by stateMachine alone.
type hsState uint8

const (
	clientAwaitServerHello hsState = iota + 1
	clientAwaitServerCertificate
	clientAwaitServerKeyExchange
	clientAwaitCertificateRequestOrDone
	clientAwaitServerHelloDone
	clientAwaitChangeCipherSpec
	clientAwaitFinished
	clientConnected
	serverAwaitClientHello
	serverAwaitClientCertificate
	serverAwaitClientKeyExchange
	serverAwaitCertificateVerify
	serverAwaitChangeCipherSpec
	serverAwaitFinished
	serverConnected
)

// input is what the peer sends that moves the state machine: a handshake
// message type, or ChangeCipherSpec.
type input uint16

const inputChangeCipherSpec input = 0x100

func msg(t handshakeType) input { return input(t) }

func (in input) String() string {
	if in == inputChangeCipherSpec {
		return "ChangeCipherSpec"
	}
	return handshakeType(in).String()
}

// action says what happens to an input the state allows.
type action uint8

const (
	// accept: the handshake code processes the input and moves to one of
	// the transition's states.
	accept action = iota + 1
	// ignore: read, traced and dropped; a client ignores HelloRequest while
	// negotiating (RFC 5246 §7.4.1.1).
	ignore
	// refuse: answered with a no_renegotiation warning, staying connected
	// (RFC 5246 §7.2.2, RFC 5746 §4.2 and §4.4).
	refuse
)

type transition struct {
	on     input
	action action
	// to lists the states an accepted input may lead to; the handshake code
	// picks one from what it learned (a certificate was requested or sent).
	to []hsState
}

type stateSpec struct {
	name string
	next []transition
	// appData: application_data records are allowed.
	appData bool
}

// stateMachine is the whole protocol as the peer sees it: in each state,
// the inputs that may come next. Anything else is answered with
// unexpected_message. The record layer adds, in every state:
//   - a handshake record is never empty, and a handshake message's type is
//     checked as soon as its first byte arrives and its length against
//     Config.MaxHandshakeMessage as soon as its header is complete;
//   - while a handshake message is incomplete, no other content type may
//     come (RFC 8446 §5.1 states it; RFC 5246 never needs it, as it refuses
//     renegotiation): a ChangeCipherSpec, application data or warning alert
//     there is unexpected_message, a fatal alert or close_notify ends the
//     connection as it would anywhere;
//   - ChangeCipherSpec is one byte of value 1, and no handshake message may
//     be buffered when it comes, so that none straddles the key change;
//   - an alert record holds exactly one alert; warnings other than
//     close_notify are ignored; with empty application_data records and
//     the ignored and refused messages below, at most maxIgnoredRecords
//     may come in a row;
//   - application_data only once connected.
var stateMachine = [...]stateSpec{
	clientAwaitServerHello: {name: "client waiting for ServerHello", next: []transition{
		{msg(typeServerHello), accept, []hsState{clientAwaitServerCertificate}},
		{msg(typeHelloRequest), ignore, nil},
	}},
	clientAwaitServerCertificate: {name: "client waiting for the server Certificate", next: []transition{
		{msg(typeCertificate), accept, []hsState{clientAwaitServerKeyExchange}},
		{msg(typeHelloRequest), ignore, nil},
	}},
	clientAwaitServerKeyExchange: {name: "client waiting for ServerKeyExchange", next: []transition{
		{msg(typeServerKeyExchange), accept, []hsState{clientAwaitCertificateRequestOrDone}},
		{msg(typeHelloRequest), ignore, nil},
	}},
	clientAwaitCertificateRequestOrDone: {name: "client waiting for CertificateRequest or ServerHelloDone", next: []transition{
		{msg(typeCertificateRequest), accept, []hsState{clientAwaitServerHelloDone}},
		{msg(typeServerHelloDone), accept, []hsState{clientAwaitChangeCipherSpec}},
		{msg(typeHelloRequest), ignore, nil},
	}},
	clientAwaitServerHelloDone: {name: "client waiting for ServerHelloDone", next: []transition{
		{msg(typeServerHelloDone), accept, []hsState{clientAwaitChangeCipherSpec}},
		{msg(typeHelloRequest), ignore, nil},
	}},
	clientAwaitChangeCipherSpec: {name: "client waiting for the server ChangeCipherSpec", next: []transition{
		{inputChangeCipherSpec, accept, []hsState{clientAwaitFinished}},
	}},
	clientAwaitFinished: {name: "client waiting for the server Finished", next: []transition{
		{msg(typeFinished), accept, []hsState{clientConnected}},
	}},
	clientConnected: {name: "client connected", appData: true, next: []transition{
		{msg(typeHelloRequest), refuse, nil},
	}},
	serverAwaitClientHello: {name: "server waiting for ClientHello", next: []transition{
		{msg(typeClientHello), accept, []hsState{serverAwaitClientCertificate, serverAwaitClientKeyExchange}},
	}},
	serverAwaitClientCertificate: {name: "server waiting for the client Certificate", next: []transition{
		{msg(typeCertificate), accept, []hsState{serverAwaitClientKeyExchange}},
	}},
	serverAwaitClientKeyExchange: {name: "server waiting for ClientKeyExchange", next: []transition{
		// CertificateVerify follows if, and only if, the client sent a
		// certificate (RFC 5246 §7.4.8).
		{msg(typeClientKeyExchange), accept, []hsState{serverAwaitCertificateVerify, serverAwaitChangeCipherSpec}},
	}},
	serverAwaitCertificateVerify: {name: "server waiting for CertificateVerify", next: []transition{
		{msg(typeCertificateVerify), accept, []hsState{serverAwaitChangeCipherSpec}},
	}},
	serverAwaitChangeCipherSpec: {name: "server waiting for the client ChangeCipherSpec", next: []transition{
		{inputChangeCipherSpec, accept, []hsState{serverAwaitFinished}},
	}},
	serverAwaitFinished: {name: "server waiting for the client Finished", next: []transition{
		{msg(typeFinished), accept, []hsState{serverConnected}},
	}},
	serverConnected: {name: "server connected", appData: true, next: []transition{
		{msg(typeClientHello), refuse, nil},
	}},
}

func (s hsState) String() string {
	if int(s) < len(stateMachine) && stateMachine[s].name != "" {
		return stateMachine[s].name
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// transition returns what state s does with in, or nil if in may not come.
func (s hsState) transition(in input) *transition {
	if int(s) >= len(stateMachine) {
		return nil
	}
	for i, tr := range stateMachine[s].next {
		if tr.on == in {
			return &stateMachine[s].next[i]
		}
	}
	return nil
}

// expected names the inputs state s allows, for error messages.
func (s hsState) expected() string {
	var names []string
	if int(s) < len(stateMachine) {
		for _, tr := range stateMachine[s].next {
			if tr.action == accept {
				names = append(names, tr.on.String())
			}
		}
		if stateMachine[s].appData {
			names = append(names, "application data")
		}
	}
	return strings.Join(names, " or ")
}

// unexpected is the error for an input state s does not allow.
func (s hsState) unexpected(what string) error {
	return alertf(AlertUnexpectedMessage, "received %s while %s (expected %s)", what, s, s.expected())
}

// moveTo makes the handshake enter state to, which must be one the last
// accepted transition leads to: the table, not the code, says where the
// protocol may go.
func (hs *handshake) moveTo(to hsState) error {
	if hs.last == nil || !slices.Contains(hs.last.to, to) {
		return alertf(AlertInternalError, "handshake code moved from %s to %s, which the state machine does not allow", hs.c.wait, to)
	}
	hs.c.wait, hs.last = to, nil
	return nil
}
