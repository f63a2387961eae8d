package lab

import (
	"crypto"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"
)

// Source gives the HTTP handlers the lab to answer from.
type Source interface {
	Current() (*Lab, error)
}

// Current makes a Lab its own Source: handlers answer from it as it is now,
// revocations made meanwhile included.
func (l *Lab) Current() (*Lab, error) { return l, nil }

// Watch returns a Source for the lab in dir that opens it again whenever
// lab.json, issued.json or a CRL changes, so that a server follows `lab
// revoke` and `lab sign` run by other processes.
func Watch(dir string) (Source, error) {
	w := &watcher{dir: dir}
	if _, err := w.Current(); err != nil {
		return nil, err
	}
	return w, nil
}

type watcher struct {
	dir   string
	mu    sync.Mutex
	lab   *Lab
	stamp string
}

func (w *watcher) Current() (*Lab, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	stamp := w.stampOf()
	if w.lab != nil && stamp == w.stamp {
		return w.lab, nil
	}
	l, err := Open(w.dir)
	if err != nil {
		return nil, err
	}
	// Stamp what was read: a change during Open shows up at the next request.
	w.lab, w.stamp = l, stamp
	return l, nil
}

// stampOf sums up the size and time of the files a change would touch.
func (w *watcher) stampOf() string {
	files := []string{ManifestFile, IndexFile}
	if w.lab != nil {
		for _, n := range CANames() {
			files = append(files, filepath.FromSlash(w.lab.files.CAs[n].CRL))
		}
	}
	var b strings.Builder
	for _, f := range files {
		if fi, err := os.Stat(filepath.Join(w.dir, f)); err == nil {
			fmt.Fprintf(&b, "%s:%d:%d;", f, fi.Size(), fi.ModTime().UnixNano())
		}
	}
	return b.String()
}

// Entry describes one request a lab handler answered, for a server's log.
type Entry struct {
	Remote string `json:"remote"`
	Method string `json:"method"`
	Path   string `json:"path"`
	Code   int    `json:"code"`
	Bytes  int    `json:"bytes"`
	// Kind is crl, ca or ocsp; empty for a path the lab does not serve.
	Kind string `json:"kind,omitempty"`
	CA   CAName `json:"ca,omitempty"`
	// Serial and Hash are the OCSP request's serial number and CertID hash.
	Serial string `json:"serial,omitempty"`
	Hash   string `json:"hash,omitempty"`
	// Answer is the OCSP status given (good, revoked, unknown, malformed,
	// unauthorized), or why a request failed.
	Answer string `json:"answer,omitempty"`
}

func newEntry(r *http.Request, kind string) *Entry {
	return &Entry{Remote: r.RemoteAddr, Method: r.Method, Path: r.URL.Path, Kind: kind}
}

// reply writes a response and reports the entry to log.
func reply(w http.ResponseWriter, e *Entry, log func(Entry), code int, ctype string, body []byte) {
	if ctype != "" {
		w.Header().Set("Content-Type", ctype)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	if e.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
	e.Code, e.Bytes = code, len(body)
	if log != nil {
		log(*e)
	}
}

func fail(w http.ResponseWriter, e *Entry, log func(Entry), code int, why string) {
	e.Answer = why
	reply(w, e, log, code, "text/plain; charset=utf-8", []byte(why+"\n"))
}

// CRLHandler serves each CA's current CRL at NAME.crl (DER, what clients
// fetch from a CRL distribution point) and NAME.crl.pem; only the last path
// element counts, so it can be mounted anywhere.
type CRLHandler struct {
	Source Source
	// Log, when set, is told about every request.
	Log func(Entry)
}

func (h CRLHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e := newEntry(r, "crl")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		fail(w, e, h.Log, http.StatusMethodNotAllowed, "CRLs are fetched with GET")
		return
	}
	base := path.Base(r.URL.Path)
	name, asPEM := strings.CutSuffix(base, ".crl.pem")
	if !asPEM {
		var ok bool
		if name, ok = strings.CutSuffix(base, ".crl"); !ok {
			fail(w, e, h.Log, http.StatusNotFound, "no CRL here: ask for CA.crl")
			return
		}
	}
	l, err := h.Source.Current()
	if err != nil {
		fail(w, e, h.Log, http.StatusInternalServerError, err.Error())
		return
	}
	ca := l.CA(CAName(name))
	if ca.CRL == nil {
		fail(w, e, h.Log, http.StatusNotFound, fmt.Sprintf("the lab has no CA named %q", name))
		return
	}
	e.CA = ca.Name
	if asPEM {
		reply(w, e, h.Log, http.StatusOK, "application/x-pem-file", crlPEM(ca.CRL))
		return
	}
	reply(w, e, h.Log, http.StatusOK, "application/pkix-crl", ca.CRL.Raw)
}

// CAHandler serves each CA certificate at NAME.cer (DER), the caIssuers
// addresses of the lab certificates.
type CAHandler struct {
	Source Source
	Log    func(Entry)
}

func (h CAHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e := newEntry(r, "ca")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		fail(w, e, h.Log, http.StatusMethodNotAllowed, "certificates are fetched with GET")
		return
	}
	name, ok := strings.CutSuffix(path.Base(r.URL.Path), ".cer")
	if !ok {
		fail(w, e, h.Log, http.StatusNotFound, "no certificate here: ask for CA.cer")
		return
	}
	l, err := h.Source.Current()
	if err != nil {
		fail(w, e, h.Log, http.StatusInternalServerError, err.Error())
		return
	}
	ca := l.CA(CAName(name))
	if ca.Cert == nil {
		fail(w, e, h.Log, http.StatusNotFound, fmt.Sprintf("the lab has no CA named %q", name))
		return
	}
	e.CA = ca.Name
	reply(w, e, h.Log, http.StatusOK, "application/pkix-cert", ca.Cert.Raw)
}

// maxOCSPRequest bounds a request body: a one-certificate request with a
// nonce is about 100 bytes.
const maxOCSPRequest = 8 << 10

// ocspValidity is how long an OCSP answer may be cached.
const ocspValidity = 24 * time.Hour

// OCSPHandler is the lab's OCSP responder (RFC 6960): requests by POST, or by
// GET with the base64 request as the path after the mount point (mount it
// with http.StripPrefix). It answers for every lab CA, found by the request's
// issuer hashes, with the CertID hash the request used, signed by the issuing
// CA itself: revoked (time and reason from the CRL), good for a certificate
// the lab issued, unknown for any other serial.
type OCSPHandler struct {
	Source Source
	// Now is the clock of thisUpdate. Required.
	Now func() time.Time
	Log func(Entry)
}

func (h OCSPHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e := newEntry(r, "ocsp")
	var der []byte
	switch r.Method {
	case http.MethodPost:
		body, err := io.ReadAll(io.LimitReader(r.Body, maxOCSPRequest+1))
		if err != nil || len(body) > maxOCSPRequest {
			e.Answer = "malformed"
			reply(w, e, h.Log, http.StatusOK, "application/ocsp-response", ocsp.MalformedRequestErrorResponse)
			return
		}
		der = body
	case http.MethodGet:
		// RFC 6960 appendix A.1: the path is the base64 request, URL-escaped.
		p := strings.TrimPrefix(r.URL.Path, "/")
		if un, err := url.PathUnescape(p); err == nil {
			p = un
		}
		var err error
		if der, err = base64.StdEncoding.DecodeString(p); err != nil {
			e.Answer = "malformed"
			reply(w, e, h.Log, http.StatusOK, "application/ocsp-response", ocsp.MalformedRequestErrorResponse)
			return
		}
	default:
		fail(w, e, h.Log, http.StatusMethodNotAllowed, "OCSP requests come by POST or GET")
		return
	}
	l, err := h.Source.Current()
	if err != nil {
		fail(w, e, h.Log, http.StatusInternalServerError, err.Error())
		return
	}
	if h.Now == nil {
		fail(w, e, h.Log, http.StatusInternalServerError, "lab: the OCSP handler has no clock (OCSPHandler.Now)")
		return
	}
	resp := l.respondOCSP(der, h.Now(), e)
	reply(w, e, h.Log, http.StatusOK, "application/ocsp-response", resp)
}

// respondOCSP answers one DER request, filling e with what it decided.
func (l *Lab) respondOCSP(der []byte, now time.Time, e *Entry) []byte {
	req, err := ocsp.ParseRequest(der)
	if err != nil {
		e.Answer = "malformed"
		return ocsp.MalformedRequestErrorResponse
	}
	e.Serial, e.Hash = SerialString(req.SerialNumber), hashName(req.HashAlgorithm)
	if !req.HashAlgorithm.Available() {
		e.Answer = "malformed"
		return ocsp.MalformedRequestErrorResponse
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	var ca *CA
	for _, n := range CANames() {
		c := l.cas[n]
		name, key, err := issuerHashes(c, req.HashAlgorithm)
		if err == nil && string(name) == string(req.IssuerNameHash) && string(key) == string(req.IssuerKeyHash) {
			ca = c
			break
		}
	}
	if ca == nil {
		// RFC 6960 §2.3: a responder not authoritative for the issuer says unauthorized.
		e.Answer = "unauthorized"
		return ocsp.UnauthorizedErrorResponse
	}
	e.CA = ca.Name
	now = now.UTC().Truncate(time.Second)
	tmpl := ocsp.Response{Status: ocsp.Unknown, SerialNumber: req.SerialNumber, ThisUpdate: now,
		NextUpdate: now.Add(ocspValidity), IssuerHash: req.HashAlgorithm}
	// No certificate rides along: the signer is the issuer the client already
	// has, and x/crypto/ocsp would check an embedded one as signed by the issuer.
	serial := SerialString(req.SerialNumber)
	for _, is := range l.issued {
		if is.CA == ca.Name && is.Serial == serial {
			tmpl.Status = ocsp.Good
		}
	}
	for _, re := range ca.CRL.RevokedCertificateEntries {
		if re.SerialNumber.Cmp(req.SerialNumber) == 0 {
			tmpl.Status, tmpl.RevokedAt, tmpl.RevocationReason = ocsp.Revoked, re.RevocationTime, re.ReasonCode
		}
	}
	resp, err := ocsp.CreateResponse(ca.Cert, ca.Cert, tmpl, ca.Key)
	if err != nil {
		e.Answer = "internal error: " + err.Error()
		return ocsp.InternalErrorErrorResponse
	}
	e.Answer = map[int]string{ocsp.Good: "good", ocsp.Revoked: "revoked", ocsp.Unknown: "unknown"}[tmpl.Status]
	if tmpl.Status == ocsp.Revoked {
		e.Answer += " (" + ReasonName(tmpl.RevocationReason) + ")"
	}
	return resp
}

// issuerHashes are the CertID hashes of a CA (RFC 6960 §4.1.1): of its DER
// subject and of its public key bits.
func issuerHashes(ca *CA, h crypto.Hash) (name, key []byte, err error) {
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(ca.Cert.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil, nil, err
	}
	hn := h.New()
	hn.Write(ca.Cert.RawSubject)
	hk := h.New()
	hk.Write(spki.PublicKey.RightAlign())
	return hn.Sum(nil), hk.Sum(nil), nil
}

func hashName(h crypto.Hash) string {
	if h.Available() {
		return strings.ToLower(strings.ReplaceAll(h.String(), "-", ""))
	}
	return "unknown"
}

// Handler serves everything the lab certificates point at, under the path of
// the lab URL: CRLs at crl/NAME.crl, CA certificates at ca/NAME.cer and the
// OCSP responder at ocsp. now is the responder's clock; log, when set, is
// told about every request, those for other paths too.
func Handler(src Source, now func() time.Time, log func(Entry)) http.Handler {
	crl := CRLHandler{Source: src, Log: log}
	cas := CAHandler{Source: src, Log: log}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l, err := src.Current()
		if err != nil {
			fail(w, newEntry(r, ""), log, http.StatusInternalServerError, err.Error())
			return
		}
		prefix := "/"
		if u, err := url.Parse(l.URL()); err == nil {
			prefix = u.Path
		}
		rest, ok := strings.CutPrefix(r.URL.Path, prefix)
		switch {
		case ok && strings.HasPrefix(rest, crlPath):
			crl.ServeHTTP(w, r)
		case ok && strings.HasPrefix(rest, caPath):
			cas.ServeHTTP(w, r)
		case ok && (rest == ocspPath || strings.HasPrefix(rest, ocspPath+"/")):
			// The log names the path asked for, not the one left after the prefix.
			full := r.URL.Path
			resp := OCSPHandler{Source: src, Now: now}
			if log != nil {
				resp.Log = func(e Entry) { e.Path = full; log(e) }
			}
			http.StripPrefix(prefix+ocspPath, resp).ServeHTTP(w, r)
		default:
			fail(w, newEntry(r, ""), log, http.StatusNotFound,
				"not a lab address: CRLs are under "+prefix+crlPath+", CA certificates under "+prefix+caPath+", OCSP at "+prefix+ocspPath)
		}
	})
}
