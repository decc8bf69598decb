// Package stack starts what a local run of the connector needs, the same
// pieces a deployment has: a Salesforce org (the emulator in sforg),
// Secrets Manager (a real moto_server) holding the Salesforce secret, and the
// functions, built for this host and each running under the Lambda Runtime
// Interface Emulator with the configuration template.yaml gives them. The demo
// and the integration tests use it.
package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/sfconnect/connector/local/moto"
	"github.com/sfconnect/connector/local/rie"
)

// SecretName is the secret the functions read: the SalesforceSecret default
// of template.yaml.
const SecretName = "sfconnect/salesforce"

// secretKeys are the eight settings a Salesforce secret holds.
var secretKeys = []string{
	"SALESFORCE_CLIENT_ID", "SALESFORCE_CLIENT_SECRET", "SALESFORCE_USERNAME", "SALESFORCE_PASSWORD",
	"SALESFORCE_SECURITY_TOKEN", "SALESFORCE_URL_LOGIN", "SALESFORCE_SOAP_URL_LOGIN", "SALESFORCE_VERSION",
}

// SecretString returns the SecretString of a Salesforce secret: a JSON object
// of the eight SALESFORCE_* settings, taken from settings (an org's Settings()).
func SecretString(settings map[string]string) (string, error) {
	secret := make(map[string]string, len(secretKeys))
	var missing []string
	for _, k := range secretKeys {
		v, ok := settings[k]
		if !ok {
			missing = append(missing, k)
			continue
		}
		secret[k] = v
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("settings lack %s", strings.Join(missing, ", "))
	}
	b, err := json.Marshal(secret)
	return string(b), err
}

// FunctionEnv is the configuration of a deployed function (template.yaml's
// Globals) pointed at a local Secrets Manager: the secret's id, the auth flow,
// the log level and the AWS SDK's endpoint, region and credentials.
func FunctionEnv(secretID string, aws *moto.Server) map[string]string {
	env := map[string]string{
		"SALESFORCE_SECRET_ID": secretID,
		"SALESFORCE_AUTH_FLOW": "auto",
		"LOG_LEVEL":            "info",
	}
	for k, v := range aws.Env() {
		env[k] = v
	}
	return env
}

// Functions returns the names of the functions in the module: every
// functions/<name>/main.go, sorted.
func Functions() ([]string, error) {
	root, err := rie.ModuleRoot()
	if err != nil {
		return nil, err
	}
	mains, err := filepath.Glob(filepath.Join(root, "functions", "*", "main.go"))
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(mains))
	for _, m := range mains {
		names = append(names, filepath.Base(filepath.Dir(m)))
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, fmt.Errorf("no functions/<name>/main.go under %s", root)
	}
	return names, nil
}

// Build compiles the named functions for this host as `make build` does for
// Lambda (static, -trimpath, -tags lambda.norpc), in one go build, and places
// each at dir/<name>/bootstrap, the layout of a Lambda deployment package. It
// returns the bootstrap paths by name.
func Build(ctx context.Context, dir string, names []string) (map[string]string, error) {
	pkgs := make([]string, len(names))
	for i, n := range names {
		pkgs[i] = "./functions/" + n
	}
	return rie.BuildAll(ctx, dir, runtime.GOOS, runtime.GOARCH, pkgs)
}

// Start runs each bootstrap under its own Runtime Interface Emulator with env
// (plus what Lambda itself sets), all at once, and returns them by name. On
// error every emulator it started is stopped. Each function's and emulator's
// output goes to logs(name); logs or its result may be nil.
func Start(ctx context.Context, bootstraps map[string]string, env map[string]string, logs func(name string) io.Writer) (map[string]*rie.Emulator, error) {
	var (
		mu      sync.Mutex
		started = make(map[string]*rie.Emulator, len(bootstraps))
	)
	g, gctx := errgroup.WithContext(ctx)
	for name, bootstrap := range bootstraps {
		g.Go(func() error {
			opts := rie.Options{Bootstrap: bootstrap, FunctionName: name, Env: env}
			if logs != nil {
				opts.Log = logs(name)
			}
			e, err := rie.Start(gctx, opts)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			mu.Lock()
			started[name] = e
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		Stop(started)
		return nil, err
	}
	return started, nil
}

// Stop closes every emulator (and the function it runs).
func Stop(emulators map[string]*rie.Emulator) {
	var wg sync.WaitGroup
	for _, e := range emulators {
		wg.Go(func() { e.Close() })
	}
	wg.Wait()
}
