package connector

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/sfconnect/connector/sforg"
	"github.com/sfconnect/connector/shared/credentials"
	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/salesforce"
	"github.com/sfconnect/connector/shared/salesforce/session"
)

// The fault matrix: every action against every way Salesforce, the network or
// the configuration fails, each cell the outcome a workflow sees (an errorType
// or salesforceStatus), how many requests the client sent for the action, how
// many login requests it made, and how many records the action created. With
// FAULT_MATRIX=path the test writes the matrix as Markdown to path (make test
// prints it); with -v it logs it.

// meter is the client's transport, counting what the client sent or tried to
// send: login requests and every other request. It counts each connection the
// transport asks for, so that a refused connection counts, and so does the
// transport's own replay of a GET whose reused connection closed.
type meter struct {
	base     *http.Transport
	attempts atomic.Int64
	logins   atomic.Int64
}

func newMeter() *meter {
	return &meter{base: http.DefaultTransport.(*http.Transport).Clone()}
}

func (m *meter) RoundTrip(r *http.Request) (*http.Response, error) {
	p := r.URL.Path
	n := &m.attempts
	if p == "/services/oauth2/token" || strings.HasPrefix(p, "/services/Soap/u/") || strings.HasPrefix(p, "/services/Soap/c/") {
		n = &m.logins
	}
	trace := &httptrace.ClientTrace{GetConn: func(string) { n.Add(1) }}
	return m.base.RoundTrip(r.WithContext(httptrace.WithClientTrace(r.Context(), trace)))
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the pool.
func (m *meter) CloseIdleConnections() { m.base.CloseIdleConnections() }

func (m *meter) reset() {
	m.attempts.Store(0)
	m.logins.Store(0)
}

// stage is one cell's org, served by a test server that knows when the org's
// handlers are done, a connector that prepares the cell (records to act on) and
// the execution environment under test, on a metered client with the row's
// options. Keeping them apart keeps a row's short timeouts off the preparation.
type stage struct {
	*world
	srv      *httptest.Server
	mu       sync.Mutex
	idle     *sync.Cond // signalled when inflight drops to zero
	inflight int        // org handlers running
	envOpts  salesforce.Options
	meter    *meter
	env      *Connector // the connector invoked
}

// newStage starts an org on loopback, a connector to prepare the cell, and the
// environment under test with a session and a pooled connection.
func newStage(t *testing.T, tune func(*salesforce.Options)) *stage {
	t.Helper()
	s := &stage{}
	s.idle = sync.NewCond(&s.mu)
	org := sforg.New(sforg.Options{})
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.inflight++
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.inflight--; s.inflight == 0 {
				s.idle.Broadcast()
			}
		}()
		org.ServeHTTP(w, r)
	}))
	s.srv.Start()
	t.Cleanup(s.srv.Close)
	org.URL = s.srv.URL
	logs := &syncBuffer{}
	opts := quickOptions(slog.New(slog.NewJSONHandler(logs, nil)))
	opts.Credentials = settingsSource(org.Settings())
	s.world = newWorld(org, opts, logs)
	s.envOpts = opts
	if tune != nil {
		tune(&s.envOpts)
	}
	s.coldEnvironment(nil)
	mustOK(t, invoke(t, s.env.ApprovalList, `{}`), "200") // a session, a pooled connection
	return s
}

// coldEnvironment makes the invoked connector a new execution environment (no
// session, no pooled connection) reading its configuration from creds.
func (s *stage) coldEnvironment(creds session.Credentials) {
	s.meter = newMeter()
	opts := s.envOpts
	opts.Transport.HTTPClient = &http.Client{Transport: s.meter}
	if creds != nil {
		opts.Credentials = creds
	}
	s.env = New(salesforce.New(opts), slog.New(slog.NewJSONHandler(s.logs, nil)))
}

// settle waits until the org has finished every request it received, including
// those the client gave up on, so that the records they created are counted.
func (s *stage) settle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.inflight > 0 {
		s.idle.Wait()
	}
}

// fakeSecrets is Secrets Manager answering one way: a value or an error.
type fakeSecrets struct {
	value *string
	err   error
}

func (f fakeSecrets) GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: f.value}, nil
}

func secretSource(api credentials.SecretsAPI) *credentials.Cache {
	return credentials.NewCache(credentials.SecretsManager(api, "sfconnect/salesforce"), time.Minute)
}

// cell is one outcome: what the workflow saw and what it cost.
type cell struct {
	outcome  string // errorType, or salesforceStatus of an answer
	attempts int64  // requests sent for the action, retries included
	logins   int64  // login requests
	created  int    // records (or definitions) the action created; -1 when it creates none
}

func (c cell) String() string {
	s := fmt.Sprintf("%s %d/%d", c.outcome, c.attempts, c.logins)
	if c.created >= 0 {
		s += fmt.Sprintf("/%d", c.created)
	}
	return s
}

// creations counts what an action creates, for the "created" figure.
var creations = map[string]func(org *sforg.Server) int{
	"CREATE":               func(org *sforg.Server) int { return org.Store().Count("Account") },
	"APPROVAL_SUBMIT":      func(org *sforg.Server) int { return org.Store().Count("ProcessInstance") },
	"APPROVAL_APPROVE":     func(org *sforg.Server) int { return org.Store().Count("ProcessInstanceStep") },
	"APPROVAL_REJECT":      func(org *sforg.Server) int { return org.Store().Count("ProcessInstanceStep") },
	"CUSTOM_OBJECT_CREATE": func(org *sforg.Server) int { return len(org.Store().Objects()) },
	"UPSERT":               func(org *sforg.Server) int { return org.Store().Count("Invoice__c") },
	"COLLECTION":           func(org *sforg.Server) int { return org.Store().Count("Account") },
	"COMPOSITE":            func(org *sforg.Server) int { return org.Store().Count("Contact") },
}

// kind sorts the actions the way the retry policy does.
type kind int

const (
	idempotent kind = iota // GET, PATCH, DELETE, queries: retried
	post                   // REST POST: never replayed once it may have reached Salesforce
	soapPost               // createMetadata: a POST whose 500 SOAP faults are answers
)

func kindOf(a action) kind {
	switch {
	case a.SOAP:
		return soapPost
	case a.post:
		return post
	}
	return idempotent
}

// success is the status of each action's successful answer.
var success = map[string]string{
	"CREATE": "201", "GET": "200", "UPDATE": "204", "DELETE": "204", "QUERY": "200",
	"APPROVAL_LIST": "200", "APPROVAL_SUBMIT": "200", "APPROVAL_APPROVE": "200",
	"APPROVAL_REJECT": "200", "CUSTOM_OBJECT_CREATE": "200", "UPSERT": "201",
	"COLLECTION": "200", "COMPOSITE": "200",
}

// matrixRow is one fault: how to provoke it and what each kind of action gives.
type matrixRow struct {
	name     string
	tune     func(*salesforce.Options)
	arrange  func(t *testing.T, s *stage, a action)
	deadline time.Duration // the invocation's remaining time; 0: none
	want     func(a action) cell
}

func inject(fault sforg.Fault) func(*testing.T, *stage, action) {
	return func(t *testing.T, s *stage, a action) {
		t.Helper()
		f := fault
		if f.Route == "" {
			f.Route = a.route
		}
		mustInject(t, s.org, f)
	}
}

func failed(code faults.Code, attempts, logins int64, created int) cell {
	return cell{string(code), attempts, logins, created}
}

func answered(status string, attempts, logins int64, created int) cell {
	return cell{status, attempts, logins, created}
}

// upsertDid is want, except that UPSERT, an idempotent write, did its work
// and gives c.
func upsertDid(c cell, want func(a action) cell) func(a action) cell {
	return func(a action) cell {
		if a.name == "UPSERT" {
			return c
		}
		return want(a)
	}
}

// byKind picks the expectation of an action's kind.
func byKind(idem, p, soap cell) func(a action) cell {
	return func(a action) cell {
		return [...]cell{idem, p, soap}[kindOf(a)]
	}
}

func matrixRows() []matrixRow {
	const (
		CBO = faults.CircuitBreakerOpen
		UNK = faults.UnknownError
	)
	ok := func(attempts, logins int64) func(a action) cell {
		return func(a action) cell { return answered(success[a.name], attempts, logins, 1) }
	}
	return []matrixRow{
		{
			name:    "500",
			arrange: inject(sforg.Fault{Kind: sforg.FaultStatus, Status: 500}),
			// A 500 SOAP fault is Salesforce's answer: the workflow reads it.
			want: byKind(failed(CBO, 3, 0, 0), failed(UNK, 1, 0, 0), answered("500", 1, 0, 0)),
		},
		{
			name:    "502",
			arrange: inject(sforg.Fault{Kind: sforg.FaultStatus, Status: 502}),
			want:    byKind(failed(CBO, 3, 0, 0), failed(UNK, 1, 0, 0), failed(UNK, 1, 0, 0)),
		},
		{
			name:    "503 with an HTML body",
			arrange: inject(sforg.Fault{Kind: sforg.FaultStatus, Status: 503, HTML: true}),
			want:    byKind(failed(CBO, 3, 0, 0), failed(UNK, 1, 0, 0), failed(UNK, 1, 0, 0)),
		},
		{
			name:    "answer slower than the timeout",
			tune:    func(o *salesforce.Options) { o.Transport.Timeout = 200 * time.Millisecond },
			arrange: inject(sforg.Fault{Kind: sforg.FaultLatency, Delay: 600 * time.Millisecond}),
			// The org still does the work it was sent: a POST's once, an upsert's
			// three times over the same record.
			want: upsertDid(failed(CBO, 3, 0, 1), byKind(failed(CBO, 3, 0, 0), failed(UNK, 1, 0, 1), failed(UNK, 1, 0, 1))),
		},
		{
			name:     "answer slower than the invocation's deadline",
			deadline: 300 * time.Millisecond,
			arrange:  inject(sforg.Fault{Kind: sforg.FaultLatency, Delay: 800 * time.Millisecond}),
			want: upsertDid(failed(faults.RequestTimeout, 1, 0, 1),
				byKind(failed(faults.RequestTimeout, 1, 0, 0), failed(faults.RequestTimeout, 1, 0, 1), failed(faults.RequestTimeout, 1, 0, 1))),
		},
		{
			name:    "connection dropped before the work, once",
			arrange: inject(sforg.Fault{Kind: sforg.FaultDropBefore, Times: 1}),
			want: upsertDid(answered("201", 2, 0, 1), func(a action) cell {
				if kindOf(a) == idempotent {
					return answered(success[a.name], 2, 0, 0)
				}
				return failed(UNK, 1, 0, 0)
			}),
		},
		{
			name:    "connection dropped after the work, once",
			arrange: inject(sforg.Fault{Kind: sforg.FaultDropAfter, Times: 1}),
			want: func(a action) cell {
				switch {
				case a.name == "DELETE":
					// The replay finds the record already deleted.
					return answered("404", 2, 0, 0)
				case a.name == "UPSERT":
					// The replay updates the record the lost attempt inserted
					// (204 before API 46.0).
					return answered("204", 2, 0, 1)
				case kindOf(a) == idempotent:
					return answered(success[a.name], 2, 0, 0)
				}
				return failed(UNK, 1, 0, 1)
			},
		},
		{
			name: "connection refused",
			arrange: func(t *testing.T, s *stage, a action) {
				s.srv.Close()
				s.meter.CloseIdleConnections()
			},
			// Nothing can have reached Salesforce: POSTs are retried too.
			want: func(a action) cell { return failed(faults.ConnectionError, 3, 0, 0) },
		},
		{
			name:    "401 once",
			arrange: inject(sforg.Fault{Kind: sforg.FaultSessionExpired, Times: 1}),
			want:    ok(2, 1),
		},
		{
			name:    "401 always",
			arrange: inject(sforg.Fault{Kind: sforg.FaultSessionExpired}),
			want:    func(a action) cell { return failed(faults.MissingToken, 2, 1, 0) },
		},
		{
			name: "token endpoint answers 400",
			arrange: func(t *testing.T, s *stage, a action) {
				s.coldEnvironment(nil)
				mustInject(t, s.org, sforg.Fault{Route: sforg.RouteToken, Kind: sforg.FaultLoginFailure})
			},
			// Rejected credentials are read again (a rotated secret); the same
			// ones are not tried a second time.
			want: func(a action) cell { return failed(faults.MissingToken, 0, 1, 0) },
		},
		{
			name: "token endpoint down (503)",
			arrange: func(t *testing.T, s *stage, a action) {
				s.coldEnvironment(nil)
				mustInject(t, s.org, sforg.Fault{Route: sforg.RouteToken, Kind: sforg.FaultStatus, Status: 503, HTML: true})
			},
			want: func(a action) cell { return failed(CBO, 0, 3, 0) },
		},
		{
			name: "secret missing",
			arrange: func(t *testing.T, s *stage, a action) {
				s.coldEnvironment(secretSource(fakeSecrets{err: &types.ResourceNotFoundException{
					Message: aws.String("Secrets Manager can't find the specified secret.")}}))
			},
			want: func(a action) cell { return failed(faults.MissingToken, 0, 0, 0) },
		},
		{
			name: "secret malformed",
			arrange: func(t *testing.T, s *stage, a action) {
				s.coldEnvironment(secretSource(fakeSecrets{value: aws.String(`{"SALESFORCE_PASSWORD": "` + sforg.DefaultPassword + `" "SALESFORCE_USERNAME": 1}`)}))
			},
			want: func(a action) cell { return failed(faults.MissingToken, 0, 0, 0) },
		},
		{
			name:    "REQUEST_LIMIT_EXCEEDED",
			arrange: inject(sforg.Fault{Kind: sforg.FaultLimitExceeded}),
			// A 403 is Salesforce's answer; createMetadata gets it as a SOAP fault.
			want: byKind(answered("403", 1, 0, 0), answered("403", 1, 0, 0), answered("500", 1, 0, 0)),
		},
		{
			name: "circuit breaker open",
			tune: func(o *salesforce.Options) { o.Transport.BreakerFailures = 2 },
			arrange: func(t *testing.T, s *stage, a action) {
				mustInject(t, s.org, sforg.Fault{Route: "approvals", Kind: sforg.FaultStatus, Status: 503})
				wantError(t, invoke(t, s.env.ApprovalList, `{}`), faults.CircuitBreakerOpen, "")
				s.org.ClearFaults()
			},
			want: func(a action) cell { return failed(CBO, 0, 0, 0) },
		},
	}
}

// TestFaultMatrix runs every action against every fault and checks each cell.
func TestFaultMatrix(t *testing.T) {
	rows := matrixRows()
	acts := actions()
	got := make([][]cell, len(rows))
	for i := range got {
		got[i] = make([]cell, len(acts))
	}
	t.Cleanup(func() {
		table := matrixMarkdown(rows, acts, got)
		if testing.Verbose() {
			t.Log("\n" + table)
		}
		if path := os.Getenv("FAULT_MATRIX"); path != "" {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Error(err)
			} else if err := os.WriteFile(path, []byte(table), 0o644); err != nil {
				t.Error(err)
			}
		}
	})
	for i, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			t.Parallel()
			for j, a := range acts {
				t.Run(a.name, func(t *testing.T) {
					got[i][j] = runCell(t, row, a)
					if want := bulkWant(a, row.want(a)); !sameCell(got[i][j], want, a) {
						t.Errorf("got %s, want %s (outcome attempts/logins/created)", got[i][j], want)
					}
				})
			}
		})
	}
}

// sameCell compares outcomes; created only for actions that create.
func sameCell(got, want cell, a action) bool {
	if _, creates := creations[a.name]; !creates {
		want.created = -1
	}
	return got == want
}

// runCell prepares the action's event on a healthy org, provokes the fault and
// invokes the action once, through the Lambda handler path.
func runCell(t *testing.T, row matrixRow, a action) cell {
	t.Helper()
	s := newStage(t, row.tune)
	event := a.event(t, s.world)
	row.arrange(t, s, a)
	count := creations[a.name]
	before := 0
	if count != nil {
		before = count(s.org)
	}
	s.meter.reset()
	ctx := t.Context()
	if row.deadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, row.deadline)
		defer cancel()
	}
	r := invokeCtx(ctx, t, a.h(s.env), event)
	s.settle()
	c := cell{outcome: r.ErrorType, attempts: s.meter.attempts.Load(), logins: s.meter.logins.Load(), created: -1}
	if c.outcome == "" {
		c.outcome = r.SalesforceStatus
	}
	if count != nil {
		c.created = count(s.org) - before
	}
	// A POST that may have reached Salesforce says so, so that a workflow
	// checks before it creates again.
	mayHaveReached := r.ErrorType == string(faults.UnknownError) || r.ErrorType == string(faults.RequestTimeout)
	if kindOf(a) != idempotent && mayHaveReached && c.attempts > 0 && !strings.Contains(r.ErrorMessage, "outcome is unknown") {
		t.Errorf("got message %q, want it to say the outcome is unknown", r.ErrorMessage)
	}
	return c
}

// matrixMarkdown renders the outcomes: one row per fault, one column per action.
func matrixMarkdown(rows []matrixRow, acts []action, got [][]cell) string {
	var b strings.Builder
	b.WriteString("| fault |")
	for _, a := range acts {
		b.WriteString(" " + a.name + " |")
	}
	b.WriteString("\n|---|")
	for range acts {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for i, row := range rows {
		b.WriteString("| " + row.name + " |")
		for j := range acts {
			b.WriteString(" " + got[i][j].String() + " |")
		}
		b.WriteString("\n")
	}
	b.WriteString("\nEach cell: errorType or salesforceStatus, then requests sent or tried for the action /" +
		" login requests [/ records created, for the actions that create].\n")
	return b.String()
}
