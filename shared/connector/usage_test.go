package connector

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sfconnect/connector/internal/testclock"
	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/salesforce"
)

// emf is an EMF line as CloudWatch Logs reads it.
type emf struct {
	AWS struct {
		Timestamp         int64 `json:"Timestamp"`
		CloudWatchMetrics []struct {
			Namespace  string     `json:"Namespace"`
			Dimensions [][]string `json:"Dimensions"`
			Metrics    []struct {
				Name string `json:"Name"`
				Unit string `json:"Unit"`
			} `json:"Metrics"`
		} `json:"CloudWatchMetrics"`
	} `json:"_aws"`
	Function        string   `json:"Function"`
	APIUsed         *int     `json:"ApiUsed"`
	APIMax          *int     `json:"ApiMax"`
	APIUsagePercent *float64 `json:"ApiUsagePercent"`
}

func emfLines(t *testing.T, b *syncBuffer) []emf {
	t.Helper()
	var out []emf
	for line := range strings.Lines(b.String()) {
		var e emf
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("metrics line %q is not JSON: %v", line, err)
		}
		out = append(out, e)
	}
	return out
}

// invokeLogs returns the "invoke" log lines, decoded.
func invokeLogs(t *testing.T, b *syncBuffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(b.String()) {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && (m["msg"] == "invoke" || m["msg"] == "invoke failed") {
			out = append(out, m)
		}
	}
	return out
}

func TestAPIUsageReported(t *testing.T) {
	w := setup(t)
	metrics := &syncBuffer{}
	w.conn.metrics = metrics
	seedAccounts(t, w.org, 300)

	created := invoke(t, w.conn.Create, `{"SObjectName":"Account","salesforcePayload":{"Name":"Acme"}}`)
	mustOK(t, created, "201")
	queried := invoke(t, w.conn.Query, `{"salesforceQuery":"SELECT Id FROM Account","pageSize":200,"maxRecords":400}`) // two pages
	mustOK(t, queried, "200")
	if queried.RecordCount != 301 || !queried.Done {
		t.Fatalf("got %+v, want all 301 records in one output", queried.Paging)
	}
	updated := invoke(t, w.conn.Update, jsonEvent(t, map[string]any{"SObjectName": "Account", "SObjectId": field(t, created, "id"), "salesforcePayload": map[string]any{"Name": "B"}}))
	mustOK(t, updated, "204")

	used, limit := w.org.APIUsage()
	if used != 4 { // one create, two query pages, one update
		t.Fatalf("org usage: got %d, want 4", used)
	}
	for i, tt := range []struct {
		r    result
		used int
	}{{created, 1}, {queried, 3}, {updated, 4}} {
		u := tt.r.SalesforceAPIUsage
		if u == nil || u.Used != tt.used || u.Max != limit {
			t.Errorf("output %d: got salesforceApiUsage %+v, want %d/%d", i+1, u, tt.used, limit)
		}
	}

	logs := invokeLogs(t, w.logs)
	if len(logs) != 3 || logs[1]["apiUsage"] != "3/15000" || logs[2]["apiUsagePercent"] != 0.03 {
		t.Errorf("got invoke logs %v, want apiUsage 3/15000 on the query's and 0.03%% on the update's", logs)
	}

	lines := emfLines(t, metrics)
	if len(lines) != 3 {
		t.Fatalf("got %d metrics lines, want one per invoke", len(lines))
	}
	e := lines[1]
	if e.Function != "QUERY" || e.APIUsed == nil || *e.APIUsed != 3 || *e.APIMax != limit || *e.APIUsagePercent != 0.02 {
		t.Errorf("got %+v, want Function QUERY, 3 of %d, 0.02%%", e, limit)
	}
	if now := time.Now().UnixMilli(); e.AWS.Timestamp <= 0 || e.AWS.Timestamp > now {
		t.Errorf("Timestamp: got %d, want milliseconds up to now (%d)", e.AWS.Timestamp, now)
	}
	if len(e.AWS.CloudWatchMetrics) != 1 {
		t.Fatalf("got %d metric directives, want 1", len(e.AWS.CloudWatchMetrics))
	}
	d := e.AWS.CloudWatchMetrics[0]
	if d.Namespace != MetricsNamespace || len(d.Dimensions) != 2 || strings.Join(d.Dimensions[0], ",") != "Function" || len(d.Dimensions[1]) != 0 {
		t.Errorf("got namespace %q, dimensions %q; want %q, [[Function] []]", d.Namespace, d.Dimensions, MetricsNamespace)
	}
	var names []string
	for _, m := range d.Metrics {
		names = append(names, m.Name+":"+m.Unit)
	}
	if got := strings.Join(names, " "); got != "ApiUsed:Count ApiMax:Count ApiUsagePercent:Percent" {
		t.Errorf("metrics: got %s", got)
	}
	// Every metric a directive names is a member of the root (EMF's rule).
	var root map[string]any
	line, _, _ := strings.Cut(metrics.String(), "\n")
	if err := json.Unmarshal([]byte(line), &root); err != nil {
		t.Fatal(err)
	}
	for _, m := range d.Metrics {
		if _, ok := root[m.Name].(float64); !ok {
			t.Errorf("root member %s: got %v, want a number", m.Name, root[m.Name])
		}
	}
}

// TestAPIUsageThreshold runs the org up to its daily limit with a 90%
// threshold: calls fail fast once usage reaches 90%, one call per cool-down
// goes through to read the usage again, and calls flow again once it fell.
func TestAPIUsageThreshold(t *testing.T) {
	clock := testclock.New(time.Now())
	w := setup(t, func(o *salesforce.Options, _ map[string]string) {
		o.APIUsageLimitPercent = 90
		o.Transport.BreakerCooldown = time.Minute
		o.Now = clock.Now
	})
	w.org.SetDailyLimit(10)
	metrics := &syncBuffer{}
	w.conn.metrics = metrics
	list := func() result { return invoke(t, w.conn.ApprovalList, `{}`) }

	for i := 1; i <= 9; i++ { // the ninth call reports 9/10: 90%
		mustOK(t, list(), "200")
	}
	requests := w.org.Requests("*")
	blocked := list()
	wantError(t, blocked, faults.CircuitBreakerOpen, "not sent: the org has used 9 of its 10 daily API requests (90.00%), at or over the 90% set by SALESFORCE_API_USAGE_LIMIT_PERCENT")
	clock.Advance(59 * time.Second)
	wantError(t, list(), faults.CircuitBreakerOpen, "not sent")
	if n := w.org.Requests("*"); n != requests {
		t.Fatalf("got %d requests while blocked, want none", n-requests)
	}

	// After the cool-down one call goes through; it reads 10/10 (and, the
	// allocation being used up, gets Salesforce's 403).
	clock.Advance(time.Second)
	probe := list()
	mustOK(t, probe, "200")
	if u := probe.SalesforceAPIUsage; u == nil || u.Used != 10 || u.Percent != 100 {
		t.Errorf("probe: got usage %+v, want 10/10", u)
	}
	wantError(t, list(), faults.CircuitBreakerOpen, "10 of its 10 daily API requests (100.00%)")

	// The allocation grows (or the 24-hour window moves on): the next probe
	// sees 11/1000 and calls flow again.
	w.org.SetDailyLimit(1000)
	clock.Advance(time.Minute)
	mustOK(t, list(), "200")
	mustOK(t, list(), "200")

	// The refused invokes logged their error, and published no metric of
	// their own (they saw no usage).
	logs := invokeLogs(t, w.logs)
	refused := 0
	for _, l := range logs {
		if l["errorType"] == string(faults.CircuitBreakerOpen) {
			refused++
			if _, ok := l["apiUsage"]; ok {
				t.Errorf("refused invoke logged a usage: %v", l)
			}
		}
	}
	if refused != 3 {
		t.Errorf("got %d refused invokes in the logs, want 3", refused)
	}
	if n := len(emfLines(t, metrics)); n != len(logs)-refused {
		t.Errorf("got %d metrics lines, want %d (one per invoke that reached Salesforce)", n, len(logs)-refused)
	}
}
