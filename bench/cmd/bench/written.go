package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sfconnect/connector/local/demo/stack"
	"github.com/sfconnect/connector/sforg"
	"github.com/sfconnect/connector/shared/connector"
)

// writeSection is the table section of the API-call figure for n records.
func writeSection(n int) string {
	return fmt.Sprintf("API calls per %s records written (in-process connector configured as the functions are; calls counted by the org)", thousands(n))
}

// thousands writes n with commas: 10,000.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// writer is one way of writing records, for the API-call figure: each writes
// the same records into a fresh org, and the org's counters say what it cost.
// A further way (Bulk API 2.0) is one more entry.
type writer struct {
	figure string // the row's figure
	kind   string // the org counts its calls as api-calls.<kind>
	batch  int    // records per call
	// write writes records through conn; it fails unless every one was written.
	write func(ctx context.Context, conn *connector.Connector, records []map[string]any) error
	// target is the calls the writer must cost for n records; 0: reported only.
	target func(n int) int
}

var writers = []writer{
	{
		figure: "CREATE, one record per call",
		kind:   "rest",
		batch:  1,
		write: func(ctx context.Context, conn *connector.Connector, records []map[string]any) error {
			event, _ := json.Marshal(map[string]any{"SObjectName": "Account", "salesforcePayload": records[0]})
			return expect(conn.Create(ctx, event))("201", 0)
		},
	},
	{
		figure: "COLLECTION create, 200 records per call",
		kind:   "collections",
		batch:  200,
		write: func(ctx context.Context, conn *connector.Connector, records []map[string]any) error {
			event, _ := json.Marshal(map[string]any{"operation": "create", "SObjectName": "Account", "salesforcePayload": records})
			return expect(conn.Collection(ctx, event))("200", len(records))
		},
		target: func(n int) int { return (n + 199) / 200 },
	},
}

// expect checks an action's output: its status and, when want is not 0, its
// successCount.
func expect(out []byte, err error) func(status string, want int) error {
	return func(status string, want int) error {
		if err != nil {
			return err
		}
		var o struct {
			Status       string `json:"salesforceStatus"`
			SuccessCount int    `json:"successCount"`
		}
		if err := json.Unmarshal(out, &o); err != nil {
			return fmt.Errorf("output %s: %w", out, err)
		}
		if o.Status != status || (want > 0 && o.SuccessCount != want) {
			return fmt.Errorf("got %s, want status %s with %d records written", out, status, want)
		}
		return nil
	}
}

// apiCallsPerWrite writes c.written Accounts with each writer, each into a
// new org, and reports the API calls the org charged (api-usage) and their
// kind, and the time the writes took.
func apiCallsPerWrite(ctx context.Context, c config, w *world, t *table) error {
	n := c.written
	records := make([]map[string]any, n)
	for i := range records {
		records[i] = map[string]any{"Name": fmt.Sprintf("Written %05d", i), "Industry": "Energy"}
	}
	calls := map[string]int{}
	for i, wr := range writers {
		progress(c, "writing %d records: %s", n, wr.figure)
		org, err := sforg.Start(orgOptions)
		if err != nil {
			return err
		}
		used, took, err := writeAll(ctx, w, org, fmt.Sprintf("sfconnect/bench-write-%d", i), wr, records)
		if err == nil && org.Store().Count("Account") != n {
			err = fmt.Errorf("%s: the org holds %d Accounts, want %d", wr.figure, org.Store().Count("Account"), n)
		}
		org.Close()
		if err != nil {
			return err
		}
		calls[wr.figure] = used["api-usage"]
		r := row{Section: writeSection(n), Figure: wr.figure, Value: fmt.Sprint(used["api-usage"]),
			Spread: fmt.Sprintf("api-calls.%s %d; %d records in %s (%.1f µs per record)",
				wr.kind, used["api-calls."+wr.kind], n, took.Round(time.Millisecond), float64(took.Microseconds())/float64(n)),
			Target: "reported"}
		if i > 0 {
			first := calls[writers[0].figure]
			r.Other = fmt.Sprintf("%s %d", writers[0].figure, first)
			r.Ratio = fmt.Sprintf("%.3fx (%.0fx fewer calls)", float64(used["api-usage"])/float64(first), float64(first)/float64(used["api-usage"]))
		}
		if wr.target != nil {
			want := wr.target(n)
			r.Target = fmt.Sprintf("= %d", want)
			r.Met = met(used["api-usage"] == want)
		}
		t.add(r)
	}
	return nil
}

// writeAll writes records in batches through a connector configured for org
// (its secret in moto under name) and returns what the org counted for the
// writes alone, and the time they took.
func writeAll(ctx context.Context, w *world, org *sforg.Server, name string, wr writer, records []map[string]any) (map[string]int, time.Duration, error) {
	secret, err := stack.SecretString(org.Settings())
	if err != nil {
		return nil, 0, err
	}
	if err := w.moto.CreateSecret(ctx, name, secret); err != nil {
		return nil, 0, err
	}
	conn, err := inProcessWith(w, name)
	if err != nil {
		return nil, 0, err
	}
	if _, err := conn.ApprovalList(ctx, []byte(`{}`)); err != nil { // the secret and the login, not measured
		return nil, 0, err
	}
	before := org.Counters()
	start := time.Now()
	for i := 0; i < len(records); i += wr.batch {
		if err := wr.write(ctx, conn, records[i:min(i+wr.batch, len(records))]); err != nil {
			return nil, 0, fmt.Errorf("%s: %w", wr.figure, err)
		}
	}
	took := time.Since(start)
	after := org.Counters()
	used := map[string]int{}
	for k, v := range after {
		used[k] = v - before[k]
	}
	return used, took, nil
}
