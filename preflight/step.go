package preflight

import (
	"time"

	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/diapason"
)

// Status is the outcome of one step.
type Status string

const (
	Pass Status = "pass"
	Warn Status = "warn"
	Fail Status = "fail"
	// Skip: the step did not apply (no address to try) or could not run
	// because a step it needs failed, which that step reports.
	Skip Status = "skip"
	// Unknown: the step could not reach a verdict (the peer was unreachable).
	Unknown Status = "unknown"
)

// rank orders statuses as the exit code does: FAIL > UNKNOWN > WARN > OK.
func (s Status) rank() int {
	switch s {
	case Warn:
		return 1
	case Unknown:
		return 2
	case Fail:
		return 3
	}
	return 0
}

// Worst returns the status that decides the outcome of several steps: a
// skipped step counts as passed.
func Worst(steps []Step) Status {
	w := Pass
	for _, s := range steps {
		if s.Status.rank() > w.rank() {
			w = s.Status
		}
	}
	return w
}

// StepID names a step; IDs are stable, scripts may match on them.
type StepID string

// The steps, in report order.
const (
	StepFiles             StepID = "files"
	StepClientProfile     StepID = "client-profile"
	StepClientKey         StepID = "client-key"
	StepClientChain       StepID = "client-chain"
	StepClientHierarchy   StepID = "client-hierarchy"
	StepClientExpiry      StepID = "client-expiry"
	StepClientRevocation  StepID = "client-revocation"
	StepServerProfile     StepID = "server-profile"
	StepServerKey         StepID = "server-key"
	StepServerChain       StepID = "server-chain"
	StepServerHierarchy   StepID = "server-hierarchy"
	StepServerExpiry      StepID = "server-expiry"
	StepServerRevocation  StepID = "server-revocation"
	StepTrustTerminals    StepID = "truststore-terminals"
	StepTrustProvider     StepID = "truststore-provider"
	StepServerSelfTest    StepID = "server-self-test"
	StepProviderHandshake StepID = "provider-handshake"
	StepServerHandshake   StepID = "server-handshake"
)

// Step is the verdict of one check of the installation.
type Step struct {
	ID StepID `json:"id"`
	// Title says what the step checks.
	Title  string `json:"title"`
	Status Status `json:"status"`
	// Reason is the verdict in one sentence.
	Reason string `json:"reason"`
	// Fix says what to change when the step did not pass.
	Fix string `json:"fix,omitempty"`
	// Findings are the details behind the verdict.
	Findings []check.Finding `json:"findings,omitempty"`
	// Files is what the files step read.
	Files      []FileResult `json:"files,omitempty"`
	DurationMS float64      `json:"duration_ms"`
}

// FileResult is one file named by the configuration, read or not.
type FileResult struct {
	Setting string `json:"setting"`
	Path    string `json:"path"`
	OK      bool   `json:"ok"`
	// Summary says what the file holds, or why it could not be read.
	Summary string `json:"summary"`
	Hint    string `json:"hint,omitempty"`
}

// Report is the whole preflight.
type Report struct {
	At        time.Time          `json:"at"`
	Hierarchy diapason.Hierarchy `json:"hierarchy"`
	Status    Status             `json:"status"`
	Counts    Counts             `json:"counts"`
	Steps     []Step             `json:"steps"`
}

// Counts are the steps by status.
type Counts struct {
	Pass    int `json:"pass"`
	Warn    int `json:"warn"`
	Fail    int `json:"fail"`
	Skip    int `json:"skip"`
	Unknown int `json:"unknown"`
}

func count(steps []Step) Counts {
	var c Counts
	for _, s := range steps {
		switch s.Status {
		case Pass:
			c.Pass++
		case Warn:
			c.Warn++
		case Fail:
			c.Fail++
		case Skip:
			c.Skip++
		case Unknown:
			c.Unknown++
		}
	}
	return c
}

// titles say what each step checks, in report order.
var titles = []struct {
	id    StepID
	title string
}{
	{StepFiles, "every file the configuration names is readable"},
	{StepClientProfile, "GAP client certificate fits ORG AUTH_CLI (CN Client_Diapason_PSP)"},
	{StepClientKey, "GAP client key is the certificate's"},
	{StepClientChain, "GAP client chain is complete up to the IGC-Santé root"},
	{StepClientHierarchy, "GAP client certificate and chain are of the configured hierarchy"},
	{StepClientExpiry, "GAP client certificate and chain are valid beyond the warning window"},
	{StepClientRevocation, "GAP client certificate is not revoked"},
	{StepServerProfile, "GAP server certificate fits SSL_SERVEUR (CN = FQDN)"},
	{StepServerKey, "GAP server key is the certificate's"},
	{StepServerChain, "GAP server chain is complete up to the IGC-Santé root"},
	{StepServerHierarchy, "GAP server certificate and chain are of the configured hierarchy"},
	{StepServerExpiry, "GAP server certificate and chain are valid beyond the warning window"},
	{StepServerRevocation, "GAP server certificate is not revoked"},
	{StepTrustTerminals, "truststore holds the terminals' CA (IngeTrust)"},
	{StepTrustProvider, "truststore holds the provider's CA (GeoTrust)"},
	{StepServerSelfTest, "a terminal accepts the GAP server credential (self-test on loopback)"},
	{StepProviderHandshake, "live handshake from the GAP to the provider"},
	{StepServerHandshake, "live handshake from a terminal to the GAP server"},
}

// Steps lists the step IDs in report order.
func Steps() []StepID {
	out := make([]StepID, len(titles))
	for i, t := range titles {
		out[i] = t.id
	}
	return out
}

func titleOf(id StepID) string {
	for _, t := range titles {
		if t.id == id {
			return t.title
		}
	}
	return string(id)
}
