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
	if c.AuthFlow == "" {
		c.AuthFlow = FlowPassword
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

// Env reads the configuration from environment variables through getenv (usually
// os.Getenv). getenv cannot tell an empty variable from an unset one, so an empty
// SALESFORCE_SECURITY_TOKEN counts as missing here; use LookupEnv to allow it.
func Env(getenv func(string) string) Source {
	return envSource{lookup: func(key string) (string, bool) {
		v := getenv(key)
		return v, v != ""
	}}
}

// LookupEnv reads the configuration from environment variables through lookup
// (usually os.LookupEnv), which tells an empty SALESFORCE_SECURITY_TOKEN, accepted
// for orgs that trust the caller's IP range, from a missing one.
func LookupEnv(lookup func(string) (string, bool)) Source {
	return envSource{lookup: lookup}
}

type envSource struct {
	lookup lookupFunc
}

func (s envSource) Load(context.Context) (Config, error) {
	c, problems := build(s.lookup, "")
	if len(problems) > 0 {
		return Config{}, faults.New(faults.MissingToken,
			"invalid Salesforce configuration in the environment: %s", strings.Join(problems, "; "))
	}
	return c, nil
}
