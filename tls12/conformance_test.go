package tls12

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// conformanceTranscripts cover both roles, CBC (both MAC orders) and GCM,
// with and without client certificates.
var conformanceTranscripts = []string{
	"client-C028-etm", "client-C030", "client-C02F-nocertreq", "client-C013-mte",
	"server-C028-mte", "server-C02F", "server-C028-etm-nocert", "server-C014-etm",
}

// sampleByType is one well-formed message of every handshake type.
func sampleByType() map[handshakeType][]byte {
	out := map[handshakeType][]byte{}
	for _, m := range sampleMessages() {
		if _, ok := out[m.msgType()]; !ok {
			raw, _ := marshalMessage(m)
			out[m.msgType()] = raw
		}
	}
	return out
}

// spliceCase is a peer stream made from a transcript and what our side must
// answer: a sent alert, or success (alert 0) with the given trace steps.
type spliceCase struct {
	name   string
	inputs []peerInput
	alert  AlertDescription
	steps  []string
}

// TestStateMachineConformance replays real transcripts with inputs spliced
// in at every point where the peer may speak, encrypted once the peer's
// keys are in use: every input the table does not allow in that state, and
// every record rule, must be answered with the alert the RFCs name.
func TestStateMachineConformance(t *testing.T) {
	pki := loadFixedPKI(t)
	samples := sampleByType()
	for _, name := range conformanceTranscripts {
		server := strings.HasPrefix(name, "server-")
		tr := loadTranscripts(t, server)[name]
		cfg := transcriptConfig(pki, server)
		keys := tr.keys.peerCipher(t, server)
		inputs := peerInputs(t, tr.peer, keys)
		states := statesBefore(t, server, inputs)

		var cases []spliceCase
		at := func(k int, what string, alert AlertDescription, extra ...peerInput) {
			cases = append(cases, spliceCase{
				name:   fmt.Sprintf("%s/%d(%s)/%s", name, k, states[k], what),
				inputs: append(slices.Clone(inputs[:k]), extra...),
				alert:  alert,
			})
		}
		for k, in := range inputs {
			st := states[k]
			_, isHandshake := in.input()
			firstConnected := stateMachine[st].appData && !stateMachine[states[k-1]].appData
			if !isHandshake && !firstConnected {
				continue
			}
			// Every input the state does not allow.
			for typ, raw := range samples {
				if st.transition(msg(typ)) == nil {
					at(k, typ.String(), AlertUnexpectedMessage, peerInput{recordHandshake, raw})
				}
			}
			if st.transition(inputChangeCipherSpec) == nil {
				at(k, "ChangeCipherSpec", AlertUnexpectedMessage, peerInput{recordChangeCipherSpec, []byte{1}})
			}
			// Record rules.
			at(k, "empty handshake record", AlertUnexpectedMessage, peerInput{recordHandshake, nil})
			at(k, "empty alert record", AlertUnexpectedMessage, peerInput{recordAlert, nil})
			at(k, "empty ChangeCipherSpec record", AlertUnexpectedMessage, peerInput{recordChangeCipherSpec, nil})
			at(k, "oversized record", AlertRecordOverflow, peerInput{recordApplicationData, seq(maxPlaintext+1, 1)})
			if i := slices.IndexFunc(stateMachine[st].next, func(tr transition) bool { return tr.on != inputChangeCipherSpec }); i >= 0 {
				typ := byte(stateMachine[st].next[i].on)
				at(k, "oversized handshake message", AlertIllegalParameter, peerInput{recordHandshake, []byte{typ, 0x02, 0, 1}})
			}
			if !stateMachine[st].appData {
				at(k, "application data", AlertUnexpectedMessage, peerInput{recordApplicationData, []byte("early")})
			}
			if !isHandshake {
				continue
			}
			if st.transition(inputChangeCipherSpec) != nil {
				at(k, "ChangeCipherSpec of value 2", AlertDecodeError, peerInput{recordChangeCipherSpec, []byte{2}})
				continue
			}
			// The expected message, malformed, or interleaved with other
			// content types.
			raw := in.data
			if len(raw) > 4 {
				at(k, "one byte short", AlertDecodeError, peerInput{recordHandshake, resized(raw, -1)})
			}
			at(k, "one byte long", AlertDecodeError, peerInput{recordHandshake, resized(raw, +1)})
			for _, between := range []peerInput{
				{recordChangeCipherSpec, []byte{1}},
				{recordAlert, []byte{byte(LevelWarning), byte(AlertUserCanceled)}},
				{recordApplicationData, []byte("x")},
			} {
				at(k, "split by "+between.typ.String(), AlertUnexpectedMessage,
					peerInput{recordHandshake, raw[:2]}, between, peerInput{recordHandshake, raw[2:]})
			}
		}

		// Named cases the issue lists, on top of the matrix.
		ccs := slices.IndexFunc(inputs, func(in peerInput) bool { return in.typ == recordChangeCipherSpec })
		connected := slices.IndexFunc(states, func(s hsState) bool { return stateMachine[s].appData })
		cases = append(cases,
			spliceCase{name: name + "/second ChangeCipherSpec", alert: AlertUnexpectedMessage,
				inputs: concatInputs(inputs[:ccs+1], peerInput{recordChangeCipherSpec, []byte{1}}, inputs[ccs+1:])},
			spliceCase{name: name + "/Finished without ChangeCipherSpec", alert: AlertUnexpectedMessage,
				inputs: concatInputs(inputs[:ccs], inputs[ccs+1:])},
			spliceCase{name: name + "/ChangeCipherSpec after the handshake", alert: AlertUnexpectedMessage,
				inputs: concatInputs(inputs[:connected], peerInput{recordChangeCipherSpec, []byte{1}})},
		)
		if server {
			hello := inputs[0]
			cases = append(cases,
				spliceCase{name: name + "/ClientHello after the handshake", steps: []string{"received ClientHello", "sent Alert"},
					inputs: concatInputs(inputs[:connected], hello, inputs[connected:])},
				spliceCase{name: name + "/33 ClientHellos after the handshake", alert: AlertUnexpectedMessage,
					inputs: concatInputs(inputs[:connected], slices.Repeat([]peerInput{hello}, 33))},
				spliceCase{name: name + "/ClientHello after the handshake, split by application data", alert: AlertUnexpectedMessage,
					inputs: concatInputs(inputs[:connected], peerInput{recordHandshake, hello.data[:10]},
						peerInput{recordApplicationData, []byte("x")}, peerInput{recordHandshake, hello.data[10:]})},
			)
		} else {
			helloRequest := peerInput{recordHandshake, samples[typeHelloRequest]}
			cases = append(cases,
				spliceCase{name: name + "/HelloRequest after the handshake", steps: []string{"received HelloRequest", "sent Alert"},
					inputs: concatInputs(inputs[:connected], helloRequest, inputs[connected:])},
				spliceCase{name: name + "/32 HelloRequests while negotiating", steps: []string{"received HelloRequest"},
					inputs: concatInputs(slices.Repeat([]peerInput{helloRequest}, 32), inputs)},
				spliceCase{name: name + "/33 HelloRequests while negotiating", alert: AlertUnexpectedMessage,
					inputs: slices.Repeat([]peerInput{helloRequest}, 33)},
				spliceCase{name: name + "/HelloRequest with a body after the handshake", alert: AlertDecodeError,
					inputs: concatInputs(inputs[:connected], peerInput{recordHandshake, []byte{0, 0, 0, 1, 0}})},
			)
			// RFC 5246 §7.4.1.1: ignored while negotiating, kept out of the
			// transcript, so the handshake still completes.
			for k := range ccs {
				if _, ok := inputs[k].input(); ok {
					cases = append(cases, spliceCase{name: fmt.Sprintf("%s/%d/HelloRequest while negotiating", name, k),
						steps:  []string{"received HelloRequest"},
						inputs: concatInputs(inputs[:k], helloRequest, inputs[k:])})
				}
			}
		}

		for _, tc := range cases {
			var log traceLog
			cfg.Trace = log.add
			c, hsErr, readErr := replay(t, server, encodeInputs(tc.inputs, keys), cfg)
			err := hsErr
			if err == nil {
				err = readErr
			}
			if tc.alert == 0 {
				if err != nil || !c.ConnectionState().HandshakeComplete {
					t.Errorf("%s: %v", tc.name, err)
				}
				for _, s := range tc.steps {
					if !slices.Contains(log.steps(), s) {
						t.Errorf("%s: no %q in the trace", tc.name, s)
					}
				}
				continue
			}
			var ae *AlertError
			if !errors.As(err, &ae) || !ae.Sent || ae.Description != tc.alert {
				t.Errorf("%s: got %v, want sent alert %s", tc.name, err, tc.alert)
			}
		}
		t.Logf("%s: %d spliced streams", name, len(cases))
	}
}

// resized changes a message's body length by delta, fixing its header.
func resized(raw []byte, delta int) []byte {
	body := raw[4:]
	if delta < 0 {
		body = body[:max(0, len(body)+delta)]
	} else {
		body = append(slices.Clone(body), make([]byte, delta)...)
	}
	n := len(body)
	return append([]byte{raw[0], byte(n >> 16), byte(n >> 8), byte(n)}, body...)
}

func concatInputs(parts ...any) []peerInput {
	var out []peerInput
	for _, p := range parts {
		switch p := p.(type) {
		case peerInput:
			out = append(out, p)
		case []peerInput:
			out = append(out, p...)
		}
	}
	return out
}
