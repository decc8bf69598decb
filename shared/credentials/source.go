package credentials

import (
	"context"
	"strings"

	"github.com/sfconnect/connector/shared/faults"
)

// Source loads a validated Config. Errors are *faults.Error: MissingToken for a
// configuration that is absent or wrong, ConnectionError and RequestTimeout for a
// store that cannot be reached in time.
type Source interface {
	Load(ctx context.Context) (Config, error)
}

// lookupFunc reads one configuration key and reports whether it was present.
type lookupFunc func(key string) (string, bool)

// build reads every known key through lookup, normalises the values and returns
// the Config with what is wrong with it for its flow. defaultFlow applies when
// SALESFORCE_AUTH_FLOW is absent.
func build(lookup lookupFunc, defaultFlow string) (Config, []string) {
	var c Config
	for _, f := range fields {
		v, ok := lookup(f.key)
		if !f.secret {
			v = strings.TrimSpace(v) // a pasted newline is never meant; secrets stay exact
		}
		*f.get(&c) = v
		if f.key == KeySecurityToken {
			c.tokenSet = ok
		}
	}
	c.AuthFlow = strings.ToLower(c.AuthFlow)
	if c.AuthFlow == "" {
		c.AuthFlow = strings.ToLower(strings.TrimSpace(defaultFlow))
	}
	if c.AuthFlow == "" || c.AuthFlow == FlowAuto {
		if flow := c.autoFlow(); flow != "" {
			c.AuthFlow = flow
		} else {
			c.AuthFlow = FlowAuto // problems says what is missing
		}
	}
	if c.Version != "" {
		if v, err := NormalizeVersion(c.Version); err == nil {
			c.Version = v
		}
	} else if c.AuthFlow == FlowSOAP {
		c.Version = versionFromSOAPURL(c.SOAPLoginURL)
	}
	return c, c.problems(c.AuthFlow)
}

// Static is a Source over fixed values, keyed by the SALESFORCE_* names: the
// configuration of a local run, read from the environment by package
// settings. A key present with an empty value counts as present, which an
// empty SALESFORCE_SECURITY_TOKEN (orgs that trust the caller's IP range)
// needs.
func Static(values map[string]string) Source {
	return envSource{lookup: func(key string) (string, bool) {
		v, ok := values[key]
		return v, ok
	}}
}

type envSource struct {
	lookup lookupFunc
}

func (s envSource) Load(context.Context) (Config, error) {
	c, problems := build(s.lookup, "")
	if len(problems) > 0 {
		return Config{}, faults.New(faults.MissingToken,
			"invalid Salesforce configuration: %s", strings.Join(problems, "; "))
	}
	return c, nil
}
