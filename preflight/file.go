package preflight

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/xrash/smetrics"

	"github.com/diapason-cert/diapason-cert/certio"
	"github.com/diapason-cert/diapason-cert/lab"
)

// FileError is a configuration file that cannot be used as it is.
type FileError struct {
	Path string
	Err  error
}

func (e *FileError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

// secretWords mark keys that would put a secret in the file.
var secretWords = []string{"passphrase", "password", "passwd", "secret", "pin"}

// ParseFile reads a TOML configuration file: its values by setting key, with
// relative paths made relative to the file's directory. Unknown keys are
// refused (a typo must not silently leave a setting at its default), and so
// is any key that would hold a secret.
func ParseFile(path string) (map[string][]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &FileError{Path: path, Err: err}
	}
	return ParseTOML(path, data)
}

// ParseTOML is ParseFile for data read from path.
func ParseTOML(path string, data []byte) (map[string][]string, error) {
	var doc map[string]any
	if _, err := toml.Decode(string(data), &doc); err != nil {
		return nil, &FileError{Path: path, Err: fmt.Errorf("not valid TOML: %w", err)}
	}
	out := map[string][]string{}
	var errs []error
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			key := prefix + k
			if sub, ok := m[k].(map[string]any); ok && prefix == "" {
				if !slices.ContainsFunc(sections, func(s struct{ name, doc string }) bool { return s.name == k }) {
					errs = append(errs, fmt.Errorf("unknown section [%s]: the sections are [client], [server], [provider] and [truststore]", k))
					continue
				}
				walk(key+".", sub)
				continue
			}
			s, ok := LookupSetting(key)
			if !ok {
				errs = append(errs, unknownKey(key))
				continue
			}
			v, err := values(s, m[k])
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", key, err))
				continue
			}
			if s.Path {
				for i := range v {
					v[i] = resolve(path, v[i])
				}
			}
			out[key] = v
		}
	}
	walk("", doc)
	if err := joinErrors(errs); err != nil {
		return nil, &FileError{Path: path, Err: err}
	}
	return out, nil
}

// joinErrors puts several problems in one line, as error messages are.
func joinErrors(errs []error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return fmt.Errorf("%d problems: %s", len(errs), strings.Join(msgs, "; "))
}

func unknownKey(key string) error {
	_, name, _ := strings.Cut(key, ".")
	if name == "" {
		name = key
	}
	for _, w := range secretWords {
		if strings.Contains(strings.ToLower(name), w) {
			return fmt.Errorf("%s: secrets are never read from the configuration file; name the file holding it with passphrase-file, "+
				"or the environment variable with passphrase-env", key)
		}
	}
	// A suggestion is worth making when the key is a near miss, not merely short.
	hint := ""
	best := len(key)/3 + 1
	for _, s := range settingList {
		// Lengths further apart than best cannot be closer; skipping them keeps a
		// long garbage key from costing a quadratic comparison with every setting.
		if abs(len(key)-len(s.Key)) >= best {
			continue
		}
		if d := smetrics.WagnerFischer(key, s.Key, 1, 1, 1); d < best {
			best, hint = d, fmt.Sprintf(" (did you mean %s?)", s.Key)
		}
	}
	return fmt.Errorf("unknown setting %s%s", key, hint)
}

// values reads a setting's TOML value: a string, or for list settings an
// array of strings (a single string counts as a list of one).
func values(s Setting, v any) ([]string, error) {
	switch x := v.(type) {
	case string:
		return []string{x}, nil
	case []any:
		if !s.List {
			return nil, errors.New("takes one value, not an array")
		}
		out := make([]string, 0, len(x))
		for _, e := range x {
			str, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("expected an array of strings, found %T %v in it", e, e)
			}
			out = append(out, str)
		}
		return out, nil
	}
	return nil, fmt.Errorf("expected a string (in double quotes), found %T %v", v, v)
}

// resolve makes a relative path of the file relative to the file's directory.
func resolve(file, p string) string {
	if p == "" || filepath.IsAbs(p) || isURL(p) {
		return p
	}
	return filepath.Join(filepath.Dir(file), p)
}

func isURL(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

func abs(n int) int { return max(n, -n) }

// LabValues are the settings a lab fills: both GAP credentials, the FQDN,
// the truststore's CAs, the provider's CA and name, every CRL, the lab's
// IGC-Santé root and the lab hierarchy. No address: a lab runs nothing.
// The lab is opened, so one whose files disagree with its lab.json is
// refused here.
func LabValues(dir string) (map[string][]string, error) {
	if _, err := lab.Open(dir); err != nil {
		return nil, err
	}
	mpath := filepath.Join(dir, lab.ManifestFile)
	data, err := certio.ReadInput(mpath, nil)
	if err != nil {
		return nil, err
	}
	m, err := lab.ParseManifest(data)
	if err != nil {
		return nil, &certio.FileError{Path: mpath, Err: err}
	}
	at := func(rel string) string { return filepath.Join(dir, filepath.FromSlash(rel)) }
	v := map[string][]string{
		"hierarchy":            {"lab"},
		"igc-root":             {at(m.CAs[lab.CAIGCRoot].Cert)},
		"server.fqdn":          {m.FQDN},
		"provider.server-name": {lab.PSPFQDN},
		"provider.ca":          {at(m.CAs[lab.CAGeoTrustRoot].Cert)},
		"truststore.ingetrust": {at(m.CAs[lab.CAIngeTrust].Cert)},
		"truststore.geotrust":  {at(m.CAs[lab.CAGeoTrustRoot].Cert)},
	}
	for section, role := range map[string]lab.Role{"client": lab.RoleGAPClient, "server": lab.RoleGAPServer} {
		f := m.Roles[role]
		v[section+".cert"], v[section+".key"], v[section+".chain"] = []string{at(f.Cert)}, []string{at(f.Key)}, []string{at(f.Chain)}
	}
	for _, n := range lab.CANames() {
		v["crl"] = append(v["crl"], at(m.CAs[n].CRL))
	}
	return v, nil
}

// Template is a commented configuration file. values fill settings (a lab's,
// for instance); the others show their example, or are commented out.
func Template(header string, values map[string][]string) []byte {
	var b bytes.Buffer
	for _, l := range strings.Split(strings.TrimRight(header, "\n"), "\n") {
		b.WriteString(strings.TrimRight("# "+l, " ") + "\n")
	}
	section := ""
	for _, s := range settingList {
		if sec := s.Section(); sec != section {
			section = sec
			for _, d := range sections {
				if d.name == sec {
					b.WriteString("\n")
					for _, l := range strings.Split(d.doc, "\n") {
						b.WriteString("# " + l + "\n")
					}
				}
			}
			fmt.Fprintf(&b, "[%s]\n", sec)
		} else if sec == "" {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "# %s.", capitalise(plainUsage(s.Usage)))
		if s.Default != "" {
			fmt.Fprintf(&b, " Default: %s.", s.Default)
		}
		fmt.Fprintf(&b, " Also --%s, %s.\n", s.Flag(), s.Env())
		v, given := values[s.Key]
		if !given && s.Example != "" {
			v = []string{s.Example}
		}
		prefix := ""
		if len(v) == 0 {
			prefix = "# "
			if s.List {
				v = []string{}
			} else {
				v = []string{""}
			}
		}
		fmt.Fprintf(&b, "%s%s = %s\n", prefix, s.Name(), tomlValue(s.List, v))
	}
	return b.Bytes()
}

// plainUsage writes a flag's usage as a sentence: urfave/cli's `FILE`
// placeholders become plain words.
func plainUsage(u string) string {
	parts := strings.Split(u, "`")
	for i := 1; i < len(parts); i += 2 {
		if parts[i] != "FQDN" {
			parts[i] = strings.ToLower(parts[i])
		}
	}
	return strings.Join(parts, "")
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func tomlValue(list bool, v []string) string {
	if !list {
		return tomlString(v[0])
	}
	q := make([]string, len(v))
	for i, s := range v {
		q[i] = tomlString(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// tomlString quotes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
