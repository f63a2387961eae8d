package tls12

import (
	"fmt"
)

// AlertLevel is the level byte of a TLS alert (RFC 5246 §7.2).
type AlertLevel uint8

// Alert levels.
const (
	LevelWarning AlertLevel = 1
	LevelFatal   AlertLevel = 2
)

func (l AlertLevel) String() string {
	switch l {
	case LevelWarning:
		return "warning"
	case LevelFatal:
		return "fatal"
	}
	return fmt.Sprintf("level(%d)", uint8(l))
}

// AlertDescription is the description byte of a TLS alert, from the IANA registry.
type AlertDescription uint8

// Alert descriptions of RFC 5246 and the later RFCs a TLS 1.2 peer may send.
const (
	AlertCloseNotify                  AlertDescription = 0
	AlertUnexpectedMessage            AlertDescription = 10
	AlertBadRecordMAC                 AlertDescription = 20
	AlertDecryptionFailed             AlertDescription = 21
	AlertRecordOverflow               AlertDescription = 22
	AlertDecompressionFailure         AlertDescription = 30
	AlertHandshakeFailure             AlertDescription = 40
	AlertNoCertificate                AlertDescription = 41
	AlertBadCertificate               AlertDescription = 42
	AlertUnsupportedCertificate       AlertDescription = 43
	AlertCertificateRevoked           AlertDescription = 44
	AlertCertificateExpired           AlertDescription = 45
	AlertCertificateUnknown           AlertDescription = 46
	AlertIllegalParameter             AlertDescription = 47
	AlertUnknownCA                    AlertDescription = 48
	AlertAccessDenied                 AlertDescription = 49
	AlertDecodeError                  AlertDescription = 50
	AlertDecryptError                 AlertDescription = 51
	AlertExportRestriction            AlertDescription = 60
	AlertProtocolVersion              AlertDescription = 70
	AlertInsufficientSecurity         AlertDescription = 71
	AlertInternalError                AlertDescription = 80
	AlertInappropriateFallback        AlertDescription = 86
	AlertUserCanceled                 AlertDescription = 90
	AlertNoRenegotiation              AlertDescription = 100
	AlertMissingExtension             AlertDescription = 109
	AlertUnsupportedExtension         AlertDescription = 110
	AlertCertificateUnobtainable      AlertDescription = 111
	AlertUnrecognizedName             AlertDescription = 112
	AlertBadCertificateStatusResponse AlertDescription = 113
	AlertBadCertificateHashValue      AlertDescription = 114
	AlertUnknownPSKIdentity           AlertDescription = 115
	AlertCertificateRequired          AlertDescription = 116
	AlertNoApplicationProtocol        AlertDescription = 120
)

var alertNames = map[AlertDescription]string{
	AlertCloseNotify:                  "close_notify",
	AlertUnexpectedMessage:            "unexpected_message",
	AlertBadRecordMAC:                 "bad_record_mac",
	AlertDecryptionFailed:             "decryption_failed",
	AlertRecordOverflow:               "record_overflow",
	AlertDecompressionFailure:         "decompression_failure",
	AlertHandshakeFailure:             "handshake_failure",
	AlertNoCertificate:                "no_certificate",
	AlertBadCertificate:               "bad_certificate",
	AlertUnsupportedCertificate:       "unsupported_certificate",
	AlertCertificateRevoked:           "certificate_revoked",
	AlertCertificateExpired:           "certificate_expired",
	AlertCertificateUnknown:           "certificate_unknown",
	AlertIllegalParameter:             "illegal_parameter",
	AlertUnknownCA:                    "unknown_ca",
	AlertAccessDenied:                 "access_denied",
	AlertDecodeError:                  "decode_error",
	AlertDecryptError:                 "decrypt_error",
	AlertExportRestriction:            "export_restriction",
	AlertProtocolVersion:              "protocol_version",
	AlertInsufficientSecurity:         "insufficient_security",
	AlertInternalError:                "internal_error",
	AlertInappropriateFallback:        "inappropriate_fallback",
	AlertUserCanceled:                 "user_canceled",
	AlertNoRenegotiation:              "no_renegotiation",
	AlertMissingExtension:             "missing_extension",
	AlertUnsupportedExtension:         "unsupported_extension",
	AlertCertificateUnobtainable:      "certificate_unobtainable",
	AlertUnrecognizedName:             "unrecognized_name",
	AlertBadCertificateStatusResponse: "bad_certificate_status_response",
	AlertBadCertificateHashValue:      "bad_certificate_hash_value",
	AlertUnknownPSKIdentity:           "unknown_psk_identity",
	AlertCertificateRequired:          "certificate_required",
	AlertNoApplicationProtocol:        "no_application_protocol",
}

func (d AlertDescription) String() string {
	if n, ok := alertNames[d]; ok {
		return n
	}
	return fmt.Sprintf("alert(%d)", uint8(d))
}

// AlertError is an alert this side sent or the peer sent. When this side
// sent it, Err holds the reason it was sent.
type AlertError struct {
	Sent        bool
	Level       AlertLevel
	Description AlertDescription
	Err         error
}

func (e *AlertError) Error() string {
	if e.Sent {
		if e.Err != nil {
			return fmt.Sprintf("sent %s alert %s: %v", e.Level, e.Description, e.Err)
		}
		return fmt.Sprintf("sent %s alert %s", e.Level, e.Description)
	}
	return fmt.Sprintf("received %s alert %s from peer", e.Level, e.Description)
}

func (e *AlertError) Unwrap() error { return e.Err }

// HandshakeError names the step at which a handshake stopped.
type HandshakeError struct {
	Step string
	Err  error
}

func (e *HandshakeError) Error() string {
	return fmt.Sprintf("tls12: handshake failed while %s: %v", e.Step, e.Err)
}

func (e *HandshakeError) Unwrap() error { return e.Err }

// VerifyError lets a VerifyPeer callback choose the alert sent to the peer.
type VerifyError struct {
	Alert AlertDescription
	Err   error
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("peer certificate refused (%s): %v", e.Alert, e.Err)
}

func (e *VerifyError) Unwrap() error { return e.Err }

// protocolError is a local failure that must be reported to the peer as an alert.
type protocolError struct {
	alert AlertDescription
	err   error
}

func (e *protocolError) Error() string { return e.err.Error() }

func (e *protocolError) Unwrap() error { return e.err }

// alertf builds a protocolError so that the failure path can send the alert the
// RFC asks for while the caller still sees a descriptive message.
func alertf(d AlertDescription, format string, args ...any) error {
	return &protocolError{alert: d, err: fmt.Errorf(format, args...)}
}
