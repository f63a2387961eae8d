package tls12

import (
	"testing"
)

// TestStateMachineTable checks the table is whole: every state named and
// reachable from a role's first state, every accepted input leading
// somewhere, and connected states allowing only what they refuse.
func TestStateMachineTable(t *testing.T) {
	reached := map[hsState]bool{}
	var walk func(hsState)
	walk = func(s hsState) {
		if reached[s] {
			return
		}
		reached[s] = true
		spec := stateMachine[s]
		if spec.name == "" || len(spec.next) == 0 {
			t.Errorf("state %d has no name or no input", s)
		}
		seen := map[input]bool{}
		for _, tr := range spec.next {
			if seen[tr.on] {
				t.Errorf("%s: %s listed twice", s, tr.on)
			}
			seen[tr.on] = true
			if (tr.action == accept) != (len(tr.to) > 0) {
				t.Errorf("%s: %s is %d with targets %v", s, tr.on, tr.action, tr.to)
			}
			if tr.action == refuse && !spec.appData {
				t.Errorf("%s refuses %s before the handshake is over", s, tr.on)
			}
			for _, to := range tr.to {
				walk(to)
			}
		}
	}
	walk(clientAwaitServerHello)
	walk(serverAwaitClientHello)
	for s := hsState(1); int(s) < len(stateMachine); s++ {
		if !reached[s] {
			t.Errorf("%s is unreachable", s)
		}
	}
	if !reached[clientConnected] || !reached[serverConnected] {
		t.Error("a role never connects")
	}
	if got := clientAwaitCertificateRequestOrDone.expected(); got != "CertificateRequest or ServerHelloDone" {
		t.Errorf("expected() = %q", got)
	}
	if got := serverConnected.expected(); got != "application data" {
		t.Errorf("expected() = %q", got)
	}
}
