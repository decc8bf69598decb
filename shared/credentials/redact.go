package credentials

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// Redacted stands in for a secret that is set. An empty secret shows as "", since
// knowing that a security token is empty helps and gives nothing away.
const Redacted = "[REDACTED]"

// shown returns what may be displayed of a field's value.
func (f field) shown(c *Config) string {
	v := *f.get(c)
	switch {
	case v == "":
		return ""
	case f.secret:
		return Redacted
	case f.url:
		if u, err := url.Parse(v); err == nil && u.User != nil {
			return u.Redacted()
		}
	}
	return v
}

// extraKeys returns the names of the Extra keys, sorted, for stable output.
func (c *Config) extraKeys() []string {
	return slices.Sorted(maps.Keys(c.Extra))
}

func redactedExtra(v string) string {
	if v == "" {
		return ""
	}
	return Redacted
}

// String shows every field, with secrets and Extra values replaced by Redacted.
func (c Config) String() string {
	var b strings.Builder
	b.WriteString("credentials.Config{")
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s:%q", f.name, f.shown(&c))
	}
	b.WriteString(" Extra:[")
	b.WriteString(strings.Join(c.extraKeys(), " "))
	b.WriteString("]}")
	return b.String()
}

// GoString is what %#v prints: Go syntax, secrets replaced by Redacted.
func (c Config) GoString() string {
	var b strings.Builder
	b.WriteString("credentials.Config{")
	for _, f := range fields {
		fmt.Fprintf(&b, "%s:%q, ", f.name, f.shown(&c))
	}
	b.WriteString("Extra:map[string]string{")
	for i, k := range c.extraKeys() {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q:%q", k, redactedExtra(c.Extra[k]))
	}
	b.WriteString("}}")
	return b.String()
}

// Format makes every verb print the redacted form: without it %d or %x would walk
// the struct and print the secret strings.
func (c Config) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		io.WriteString(f, c.GoString())
	case verb == 'q':
		fmt.Fprintf(f, "%q", c.String())
	default:
		io.WriteString(f, c.String())
	}
}

// LogValue makes slog log the redacted fields, under their configuration keys.
func (c Config) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, len(fields)+1)
	for _, f := range fields {
		attrs = append(attrs, slog.String(f.key, f.shown(&c)))
	}
	extra := make([]slog.Attr, 0, len(c.Extra))
	for _, k := range c.extraKeys() {
		extra = append(extra, slog.String(k, redactedExtra(c.Extra[k])))
	}
	attrs = append(attrs, slog.Attr{Key: "extra", Value: slog.GroupValue(extra...)})
	return slog.GroupValue(attrs...)
}

// MarshalJSON writes the redacted fields under their configuration keys, so a
// Config that ends up in a JSON log or response holds no secret.
func (c Config) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(fields)+1)
	for _, f := range fields {
		m[f.key] = f.shown(&c)
	}
	extra := make(map[string]string, len(c.Extra))
	for k, v := range c.Extra {
		extra[k] = redactedExtra(v)
	}
	m["extra"] = extra
	return json.Marshal(m)
}
