// Command sforg runs the local Salesforce org emulator on loopback, for demos
// and for running the connector's functions against something that answers
// like Salesforce:
//
//	go run ./local/sforg -addr 127.0.0.1:8080 [-seed file.json] [-session-ttl 2h] [-daily-limit N] [-jwt-public-key cert.pem]
//	    [-tls [-ca-dir DIR]] [-block-password-flow] [-disable-soap-login] [-sandbox]
//	    [-bulk-manual] [-bulk-records-per-step N] [-bulk-step-interval 1s] [-bulk-result-page-records N]
//
// It prints the eight SALESFORCE_* settings that point the connector at the org
// on stdout, one KEY=VALUE line each, sorted, so a shell can load them:
//
//	go run ./local/sforg -addr 127.0.0.1:8080 > sforg.env &
//	sleep 2; set -a; . ./sforg.env; set +a
//
// With -tls the org serves HTTPS (the settings' URLs are https://...) with a
// certificate signed by its own CA, and a ninth line follows the eight:
// SFORG_CA_FILE=/path/ca.pem, the CA certificate to trust, e.g.
// SSL_CERT_FILE=$SFORG_CA_FILE for a Go program or NODE_EXTRA_CA_CERTS for
// Node. The CA is new every run (its file is removed at exit) unless -ca-dir
// keeps it, in DIR/ca.pem and DIR/ca-key.pem, for the next runs and a trust
// store.
//
// Then it serves until SIGINT or SIGTERM and exits 0. One log
// line per request goes to stderr; it never holds a token, password or query
// string. Faults, counters and resets are under /__sforg/ (see package sforg).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/sfconnect/connector/sforg"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sforg", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (port 0 picks a free port)")
	seed := fs.String("seed", "", `JSON file of records to insert, {"Account":[{"Name":"Acme"}],...}`)
	ttl := fs.Duration("session-ttl", 2*time.Hour, "session inactivity timeout")
	limit := fs.Int("daily-limit", 15000, "DailyApiRequests allocation")
	jwtKey := fs.String("jwt-public-key", "", "PEM certificate or public key that verifies JWT bearer assertions")
	useTLS := fs.Bool("tls", false, "serve HTTPS with the org's own CA; prints SFORG_CA_FILE=<CA certificate> after the settings")
	caDir := fs.String("ca-dir", "", "with -tls: keep the CA in this directory (ca.pem, ca-key.pem) across runs")
	blockPassword := fs.Bool("block-password-flow", false, "block the OAuth username-password flow (400 invalid_grant), as orgs created since Summer '23 do")
	noSOAPLogin := fs.Bool("disable-soap-login", false, "turn SOAP API login() off (INVALID_OPERATION), as in orgs created since Winter '26")
	sandbox := fs.Bool("sandbox", false, "make the org a sandbox (Organization.IsSandbox; JWT audience https://test.salesforce.com)")
	var bulk sforg.BulkOptions
	fs.BoolVar(&bulk.Manual, "bulk-manual", false, "process Bulk API 2.0 jobs only on POST /__sforg/bulk/process")
	fs.IntVar(&bulk.RecordsPerStep, "bulk-records-per-step", 0, "Bulk API 2.0 records processed per step (0: a whole job at once)")
	fs.DurationVar(&bulk.StepInterval, "bulk-step-interval", time.Second, "pause between Bulk API 2.0 processing steps")
	fs.IntVar(&bulk.ResultPageRecords, "bulk-result-page-records", 50000, "Bulk API 2.0 query result rows per set when the client sends no maxRecords")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *caDir != "" && !*useTLS {
		fmt.Fprintln(stderr, "sforg: -ca-dir needs -tls")
		return 2
	}
	logger := log.New(stderr, "sforg: ", log.LstdFlags|log.Lmicroseconds)

	opts := sforg.Options{SessionTTL: *ttl, DailyLimit: *limit, SeedFile: *seed, TLS: *useTLS, CADir: *caDir,
		BlockPasswordFlow: *blockPassword, DisableSOAPLogin: *noSOAPLogin, Sandbox: *sandbox, Bulk: bulk}
	if *jwtKey != "" {
		pem, err := os.ReadFile(*jwtKey)
		if err != nil {
			logger.Printf("reading -jwt-public-key: %v", err)
			return 1
		}
		opts.JWTPublicKeyPEM = string(pem)
	}
	org := sforg.New(opts)
	if err := org.Err(); err != nil {
		logger.Printf("%v", err)
		return 1
	}
	caFile := org.CAFile()
	if *useTLS && caFile == "" {
		dir, err := os.MkdirTemp("", "sforg-ca-")
		if err != nil {
			logger.Printf("CA file: %v", err)
			return 1
		}
		defer os.RemoveAll(dir)
		caFile = filepath.Join(dir, "ca.pem")
		if err := os.WriteFile(caFile, org.CACertPEM(), 0o644); err != nil {
			logger.Printf("CA file: %v", err)
			return 1
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		logger.Printf("listen: %v", err)
		return 1
	}
	ln = org.WrapListener(ln) // sets org.URL, http:// or https://

	// Catch the signals before the settings are out: a reader may stop the
	// org as soon as it has them.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	settings := org.Settings()
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&out, "%s=%s\n", k, shellQuote(settings[k]))
	}
	if *useTLS { // after the eight, so that readers of the eight lines keep working
		fmt.Fprintf(&out, "SFORG_CA_FILE=%s\n", shellQuote(caFile))
	}
	io.WriteString(stdout, out.String()) //nolint:errcheck // nothing to do if stdout is gone
	if f, ok := stdout.(*os.File); ok {
		f.Sync() //nolint:errcheck // a pipe cannot sync; the write already reached it
	}

	srv := &http.Server{Handler: logRequests(logger, org), ReadHeaderTimeout: 10 * time.Second, ErrorLog: logger}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Printf("org %s listening on %s", sforg.OrgID, org.URL)

	select {
	case err := <-served:
		logger.Printf("serve: %v", err)
		return 1
	case <-ctx.Done():
	}
	logger.Printf("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		logger.Printf("shutdown: %v", err)
		return 1
	}
	return 0
}

// shellQuote leaves plain values alone and single-quotes the rest, so the
// output can be sourced by a shell.
func shellQuote(v string) string {
	plain := v != ""
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_./:@%+=-,", c)) {
			plain = false
			break
		}
	}
	if plain || v == "" {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}

// statusRecorder remembers the status of a response and keeps Hijack working
// (fault injection drops connections).
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(r.ResponseWriter).Hijack()
}

// logRequests writes one line per request: method, path (never the query
// string, which may hold SOQL with customer data), status and duration.
func logRequests(logger *log.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			status := fmt.Sprint(rec.status)
			if rec.status == 0 {
				status = "dropped"
			}
			logger.Printf("%s %s %s %s", r.Method, r.URL.Path, status, time.Since(start).Round(time.Microsecond))
		}()
		h.ServeHTTP(rec, r)
	})
}
