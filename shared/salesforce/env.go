package salesforce

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sfconnect/connector/shared/credentials"
)

// The tuning variables OptionsFromEnv reads. The eight configuration keys and the
// secret are the credentials package's business.
const (
	EnvAuthFlow        = "SALESFORCE_AUTH_FLOW"
	EnvTokenTTL        = "SALESFORCE_TOKEN_TTL"
	EnvTimeout         = "SALESFORCE_TIMEOUT"
	EnvMaxAttempts     = "SALESFORCE_MAX_ATTEMPTS"
	EnvRetryBaseDelay  = "SALESFORCE_RETRY_BASE_DELAY"
	EnvRetryMaxDelay   = "SALESFORCE_RETRY_MAX_DELAY"
	EnvBreakerFailures = "SALESFORCE_BREAKER_FAILURES"
	EnvBreakerCooldown = "SALESFORCE_BREAKER_COOLDOWN"
	EnvDeadlineMargin  = "SALESFORCE_DEADLINE_MARGIN"
	EnvIdleReset       = "SALESFORCE_IDLE_RESET"
)

// OptionsFromEnv reads the SALESFORCE_* tuning variables through getenv (usually
// os.Getenv). Unset variables keep the defaults. Durations are Go durations
// ("750ms", "1h"); counts are positive integers. Every bad value is reported, each
// naming its variable; the returned Options then holds the values that were good.
// Credentials, HTTPClient and Logger are left for the caller to set.
func OptionsFromEnv(getenv func(string) string) (Options, error) {
	var o Options
	var errs []error
	durations := []struct {
		key string
		dst *time.Duration
	}{
		{EnvTokenTTL, &o.TokenTTL},
		{EnvTimeout, &o.Timeout},
		{EnvRetryBaseDelay, &o.RetryBaseDelay},
		{EnvRetryMaxDelay, &o.RetryMaxDelay},
		{EnvBreakerCooldown, &o.BreakerCooldown},
		{EnvDeadlineMargin, &o.DeadlineMargin},
		{EnvIdleReset, &o.IdleReset},
	}
	for _, d := range durations {
		v := strings.TrimSpace(getenv(d.key))
		if v == "" {
			continue
		}
		x, err := time.ParseDuration(v)
		if err != nil || x <= 0 {
			errs = append(errs, fmt.Errorf("%s: %q is not a positive Go duration such as 750ms or 1h", d.key, v))
			continue
		}
		*d.dst = x
	}

	counts := []struct {
		key string
		set func(n int)
	}{
		{EnvMaxAttempts, func(n int) { o.MaxAttempts = n }},
		{EnvBreakerFailures, func(n int) { o.BreakerFailures = uint32(n) }},
	}
	for _, n := range counts {
		v := strings.TrimSpace(getenv(n.key))
		if v == "" {
			continue
		}
		x, err := strconv.ParseInt(v, 10, 32)
		if err != nil || x <= 0 {
			errs = append(errs, fmt.Errorf("%s: %q is not a positive integer", n.key, v))
			continue
		}
		n.set(int(x))
	}

	if v := strings.ToLower(strings.TrimSpace(getenv(EnvAuthFlow))); v != "" {
		if slices.Contains(credentials.Flows(), v) {
			o.AuthFlow = v
		} else {
			errs = append(errs, fmt.Errorf("%s: %q is not one of %s", EnvAuthFlow, v, strings.Join(credentials.Flows(), ", ")))
		}
	}

	base, maxDelay := o.RetryBaseDelay, o.RetryMaxDelay
	if base == 0 {
		base = DefaultRetryBaseDelay
	}
	if maxDelay == 0 {
		maxDelay = DefaultRetryMaxDelay
	}
	if base > maxDelay {
		errs = append(errs, fmt.Errorf("%s (%s) is larger than %s (%s)", EnvRetryBaseDelay, base, EnvRetryMaxDelay, maxDelay))
	}
	return o, errors.Join(errs...)
}
