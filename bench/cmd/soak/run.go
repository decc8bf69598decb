package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sfconnect/connector/local/demo/stack"
	"github.com/sfconnect/connector/local/moto"
	"github.com/sfconnect/connector/local/rie"
	"github.com/sfconnect/connector/sforg"
	"github.com/sfconnect/connector/sforg/soql"
	"github.com/sfconnect/connector/shared/connector"
	"github.com/sfconnect/connector/shared/credentials"
	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/ledger"
	"github.com/sfconnect/connector/shared/salesforce"
)

// functionTimeout is each function's timeout: short, so that an answer slower
// than the invocation's deadline costs little time. The connector answers
// REQUEST_TIMEOUT itself 500ms before it.
const functionTimeout = 2 * time.Second

// maxAttempts bounds the whole-invocation attempts of one write, as a
// workflow's Retry MaxAttempts does.
const maxAttempts = 10

// org is the local org in this process, served on loopback, knowing how
// many requests it is still working on so that the soak can wait for the
// requests nobody waits for any more (their client gave up) before counting.
type org struct {
	*sforg.Server
	srv      *http.Server
	mu       sync.Mutex
	idle     *sync.Cond
	inflight int
}

func startOrg() (*org, error) {
	s := sforg.New(sforg.Options{})
	if err := s.Err(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	o := &org{Server: s}
	o.idle = sync.NewCond(&o.mu)
	s.URL = "http://" + ln.Addr().String()
	o.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.inflight++
		o.mu.Unlock()
		defer func() {
			o.mu.Lock()
			defer o.mu.Unlock()
			if o.inflight--; o.inflight == 0 {
				o.idle.Broadcast()
			}
		}()
		s.ServeHTTP(w, r)
	})}
	go o.srv.Serve(ln) //nolint:errcheck // ends with Close
	return o, nil
}

// settle waits until the org has finished every request it received.
func (o *org) settle() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for o.inflight > 0 {
		o.idle.Wait()
	}
}

// pool is the execution environments of one function: an invoke takes one
// that is free, as Lambda sends one event at a time to an environment.
type pool chan *rie.Emulator

// run builds and starts everything, drives the writes, waits for the org and
// checks every write against it.
func run(ctx context.Context, c config) (*report, error) {
	dir, err := os.MkdirTemp("", "sfconnect-soak-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	kinds := kindsFor(c)
	var names []string
	for _, k := range kinds {
		names = append(names, k.function)
	}
	fmt.Fprintf(c.log, "soak: building %d functions\n", len(names))
	bootstraps, err := stack.Build(ctx, dir, names)
	if err != nil {
		return nil, err
	}

	o, err := startOrg()
	if err != nil {
		return nil, err
	}
	defer o.srv.Close()
	if err := defineInvoice(o.Server); err != nil {
		return nil, err
	}

	env := o.Settings()
	env["SALESFORCE_VERSION"] = c.version
	env["SALESFORCE_AUTH_FLOW"] = "password"
	env["LOG_LEVEL"] = "error"
	env["SALESFORCE_TIMEOUT"] = "700ms" // an answer slower than this is an attempt that timed out
	env["SALESFORCE_RETRY_BASE_DELAY"] = "5ms"
	env["SALESFORCE_RETRY_MAX_DELAY"] = "50ms"
	env["SALESFORCE_BREAKER_COOLDOWN"] = "250ms"
	var ddb *moto.Serial
	if c.ledger {
		m, err := moto.Start(ctx, nil)
		if err != nil {
			return nil, err
		}
		defer m.Close()
		if ddb, err = moto.NewSerial(m.URL); err != nil {
			return nil, err
		}
		defer ddb.Close()
		if err := moto.CreateTable(ctx, moto.DynamoDB(ddb.URL), "ledger", ledger.AttrKey, ledger.AttrExpiry); err != nil {
			return nil, err
		}
		env["SALESFORCE_IDEMPOTENCY_TABLE"] = "ledger"
		env["AWS_ENDPOINT_URL_DYNAMODB"] = ddb.URL
		env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"] = moto.AccessKeyID, moto.SecretAccessKey
		env["AWS_REGION"], env["AWS_DEFAULT_REGION"] = moto.Region, moto.Region
	}

	fmt.Fprintf(c.log, "soak: starting %d execution environments of each function\n", c.environments)
	pools := map[string]pool{}
	var emulators []*rie.Emulator
	defer func() {
		for _, e := range emulators {
			e.Close()
		}
	}()
	for _, name := range names {
		p := make(pool, c.environments)
		for range c.environments {
			e, err := rie.Start(ctx, rie.Options{Bootstrap: bootstraps[name], FunctionName: name, Env: env, Timeout: functionTimeout})
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			emulators = append(emulators, e)
			p <- e
		}
		pools[name] = p
	}

	d := &driver{c: c, org: o, pools: pools, kinds: kinds, rng: rand.New(rand.NewPCG(c.seed, c.seed^0x5eed)),
		prep: prepConnector(o.Settings())}
	d.routes = routesFor(c)
	r := &report{start: time.Now()}
	usedBefore, _ := o.APIUsage()
	loginsBefore := o.Logins()
	var ddbBefore int64
	if ddb != nil {
		ddbBefore = ddb.Requests()
	}
	fmt.Fprintf(c.log, "soak: driving at least %d invocations with %d workers\n", c.invocations, c.workers)
	jobs, err := d.drive(ctx)
	if err != nil {
		return nil, err
	}
	o.ClearFaults()
	o.settle()
	r.took = time.Since(r.start)
	used, _ := o.APIUsage()
	r.apiCalls = used - usedBefore
	r.logins = o.Logins() - loginsBefore
	if ddb != nil {
		r.ddbRequests = ddb.Requests() - ddbBefore
	}
	r.invocations = int(d.invocations.Load())
	r.faults = d.faultsInjected()
	r.reconcile(o.Server, jobs)
	r.collect(d, jobs)
	return r, nil
}

// defineInvoice gives the org the custom object the upserts write, keyed by
// an external id.
func defineInvoice(s *sforg.Server) error {
	o := sforg.NewCustomObject("Invoice__c", "Invoice", "Invoices", "Invoice Name", "Text")
	o.Fields = append(o.Fields, &sforg.Field{Name: "Invoice_Number__c", Label: "Invoice Number", Type: soql.TypeString,
		Length: 255, ExternalID: true, Unique: true, Custom: true})
	return s.Store().Define(o)
}

// prepConnector is a connector in this process, without faults, that makes
// what the approvals act on (pending work items) before the soak starts.
func prepConnector(settings map[string]string) *connector.Connector {
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	return connector.New(salesforce.New(salesforce.Options{
		Credentials: credentials.NewCache(credentials.Static(settings), time.Hour),
		Logger:      log,
	}), log)
}

// outcome is one invoke as the driver saw it.
type outcome struct {
	answer    string // "status result" of a successful (2xx) output
	status    int    // salesforceStatus of an output; 0 for an error
	errorType string
	message   string
	crashed   bool // the process died, the emulator timed it out, or the answer is not JSON
}

// invoke sends event to a free environment of fn.
func (d *driver) invoke(ctx context.Context, fn string, event []byte) outcome {
	d.maybeFault()
	d.invocations.Add(1)
	e := <-d.pools[fn]
	defer func() { d.pools[fn] <- e }()
	res, err := e.Invoke(ctx, event)
	if err != nil || res.TimedOut || res.Status != http.StatusOK {
		msg := fmt.Sprintf("%s: status %d, timed out %v: %.200s", fn, res.Status, res.TimedOut, res.Body)
		if err != nil {
			msg = fn + ": " + err.Error()
		}
		return outcome{crashed: true, message: msg}
	}
	if res.ErrorType != "" {
		return outcome{errorType: res.ErrorType, message: res.ErrorMessage}
	}
	var out struct {
		Status string `json:"salesforceStatus"`
		Result string `json:"salesforceResult"`
	}
	if err := json.Unmarshal(res.Body, &out); err != nil {
		return outcome{crashed: true, message: "output is not JSON: " + string(res.Body)}
	}
	status, _ := strconv.Atoi(out.Status)
	return outcome{answer: out.Status + " " + out.Result, status: status, message: out.Result}
}

// retryable reports whether a workflow's Retry would run the write again: the
// transient errors (with a key, an unknown outcome is one), a 5xx that came
// back as an answer (createMetadata's SOAP 500), and a crash (Step Functions'
// States.Timeout or Lambda.Unknown).
func (o outcome) retryable() bool {
	if o.crashed {
		return true
	}
	switch faults.Code(o.errorType) {
	case faults.RequestTimeout, faults.UnknownError, faults.ConnectionError, faults.CircuitBreakerOpen, faults.MissingToken:
		return true
	}
	return o.errorType == "" && o.status >= 500
}

// waitPattern finds the wait in a REQUEST_TIMEOUT about a key in use.
var waitPattern = regexp.MustCompile(`for at most (\d+)s more`)

// backoff is the wait before attempt+1 of a write.
func backoff(attempt int, o outcome) time.Duration {
	if m := waitPattern.FindStringSubmatch(o.message); m != nil {
		n, _ := strconv.Atoi(m[1])
		return min(time.Duration(n)*time.Second, functionTimeout)
	}
	return min(20*time.Millisecond<<attempt, 500*time.Millisecond)
}

// driver runs the writes and the chaos.
type driver struct {
	c      config
	org    *org
	pools  map[string]pool
	kinds  []kind
	routes []string
	prep   *connector.Connector

	mu  sync.Mutex // guards rng and injected
	rng *rand.Rand
	// injected counts the faults by kind.
	injected map[string]int

	invocations atomic.Int64
}

func (d *driver) random() float64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rng.Float64()
}

func (d *driver) intN(n int) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rng.IntN(n)
}

// drive prepares the writes, before any fault, then runs them, workers at
// once, until the invocations reach the target; it returns the writes that
// ran. Each write takes at least one invocation, so the target's number of
// writes is enough.
func (d *driver) drive(ctx context.Context) ([]*job, error) {
	prepared := make([]*job, d.c.invocations)
	for i := range prepared {
		j, err := d.newJob(ctx, i+1)
		if err != nil {
			return nil, err
		}
		prepared[i] = j
	}
	var (
		mu   sync.Mutex
		next int
		wg   sync.WaitGroup
	)
	take := func() *job {
		mu.Lock()
		defer mu.Unlock()
		if int(d.invocations.Load()) >= d.c.invocations || next == len(prepared) {
			return nil
		}
		next++
		return prepared[next-1]
	}
	for range d.c.workers {
		wg.Go(func() {
			for j := take(); j != nil; j = take() {
				d.do(ctx, j)
			}
		})
	}
	wg.Wait()
	return prepared[:next], ctx.Err()
}

// do delivers one write as its delivery mode says, running it again with the
// same key after a retryable failure.
func (d *driver) do(ctx context.Context, j *job) {
	event := j.event()
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		copies := 1
		if attempt == 1 && j.mode == twice {
			copies = 2
		}
		results := make([]outcome, copies)
		var wg sync.WaitGroup
		for i := range copies {
			wg.Go(func() { results[i] = d.invoke(ctx, j.kind.function, event) })
		}
		wg.Wait()
		retry := false
		var last outcome
		for _, o := range results {
			j.record(o)
			if o.retryable() {
				retry, last = true, o
			}
		}
		if j.acked() || !retry {
			break
		}
		j.retries++
		select {
		case <-time.After(backoff(attempt, last)):
		case <-ctx.Done():
			return
		}
	}
	if j.mode == again && j.acked() {
		j.record(d.invoke(ctx, j.kind.function, event))
	}
}

// The faults the chaos picks from, with their weights.
var chaos = []struct {
	name   string
	weight int
	fault  sforg.Fault
}{
	{"connection dropped before the work", 15, sforg.Fault{Kind: sforg.FaultDropBefore}},
	{"connection dropped after the work", 25, sforg.Fault{Kind: sforg.FaultDropAfter}},
	{"503", 12, sforg.Fault{Kind: sforg.FaultStatus, Status: 503}},
	{"500", 8, sforg.Fault{Kind: sforg.FaultStatus, Status: 500}},
	{"answer slower than the attempt timeout", 12, sforg.Fault{Kind: sforg.FaultLatency, Delay: 1200 * time.Millisecond}},
	{"answer slower than the invocation's deadline", 8, sforg.Fault{Kind: sforg.FaultLatency, Delay: 2500 * time.Millisecond}},
	{"session expired (one request)", 12, sforg.Fault{Kind: sforg.FaultSessionExpired}},
	{"every session expired", 3, sforg.Fault{}},
}

// maybeFault injects a random fault, at the configured rate, into a random
// route the writes use, unless that route has one waiting for its request
// already (the look-ups' routes are seldom called).
func (d *driver) maybeFault() {
	if d.random() >= d.c.faultRate {
		return
	}
	total := 0
	for _, f := range chaos {
		total += f.weight
	}
	pick := d.intN(total)
	for _, f := range chaos {
		if pick -= f.weight; pick >= 0 {
			continue
		}
		fault := f.fault
		fault.Route = d.routes[d.intN(len(d.routes))]
		fault.Times = 1
		if f.fault.Kind != "" {
			for _, pending := range d.org.Faults() {
				if pending.Route == fault.Route {
					return
				}
			}
		}
		d.mu.Lock()
		if d.injected == nil {
			d.injected = map[string]int{}
		}
		d.injected[f.name]++
		d.mu.Unlock()
		if f.fault.Kind == "" {
			d.org.ExpireSessions()
			return
		}
		_ = d.org.Inject(fault) // every fault of the table is valid
		return
	}
}

func (d *driver) faultsInjected() map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return maps.Clone(d.injected)
}

// routesFor lists the org routes the writes and their look-ups use.
func routesFor(c config) []string {
	routes := []string{sforg.RouteUpsert, "approvals", "metadata", "query", sforg.RouteDescribe}
	v, _ := strconv.ParseFloat(c.version, 64)
	if v >= salesforce.IdempotencyVersion {
		routes = append(routes, sforg.RouteUIRecordCreate, sforg.RouteUIRecordUpdate, sforg.RouteUIRecordDelete)
	} else {
		routes = append(routes, sforg.RouteCreate, sforg.RouteUpdate, sforg.RouteDelete, sforg.RouteGet)
	}
	if !c.ledger {
		routes = slices.DeleteFunc(routes, func(r string) bool {
			return r == sforg.RouteUpsert || r == "approvals" || r == "metadata" || r == "query" || r == sforg.RouteDescribe
		})
	}
	return routes
}
