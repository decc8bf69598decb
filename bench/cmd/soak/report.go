package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/sfconnect/connector/sforg"
)

// report is what the soak found.
type report struct {
	start       time.Time
	took        time.Duration
	invocations int
	writes      int
	acked       int
	apiCalls    int
	logins      int
	ddbRequests int64
	faults      map[string]int

	// The four failures that must not happen.
	duplicates int      // records (or approvals) beyond one per write
	lost       []string // acknowledged writes the org does not show
	crashes    []string // function processes that died or were timed out
	untyped    []string // errors whose errorType is not in the catalogue

	different   []string // keys whose successful answers differ
	gaveUp      []string // writes never acknowledged, with their last errors
	refusals    []string // Salesforce's refusals (non-2xx answers)
	byKind      map[string]*kindFigures
	deliveries  [len(deliveryNames)]int
	retries     int
	errorsTyped map[string]int
}

// kindFigures are one function's counts.
type kindFigures struct{ writes, acked, invocations int }

// reconcile checks every write against the org, which has settled.
func (r *report) reconcile(org *sforg.Server, jobs []*job) {
	for _, j := range jobs {
		dups, present := j.kind.check(org, j)
		r.duplicates += dups
		if len(j.answers) > 0 && !present {
			r.lost = append(r.lost, fmt.Sprintf("write %d (%s, key %s): acknowledged %q, not in the org", j.n, j.kind.function, j.key, j.answers[0]))
		}
	}
}

// collect sums the jobs' figures.
func (r *report) collect(d *driver, jobs []*job) {
	r.writes = len(jobs)
	r.byKind = map[string]*kindFigures{}
	r.errorsTyped = map[string]int{}
	for _, k := range d.kinds {
		r.byKind[k.function] = &kindFigures{}
	}
	for _, j := range jobs {
		f := r.byKind[j.kind.function]
		f.writes++
		r.deliveries[j.mode]++
		r.retries += j.retries
		r.crashes = append(r.crashes, j.crashes...)
		r.untyped = append(r.untyped, j.untyped...)
		for _, a := range j.refusals {
			r.refusals = append(r.refusals, fmt.Sprintf("write %d (%s): %s", j.n, j.kind.function, a))
		}
		for code, n := range j.errors {
			r.errorsTyped[code] += n
			f.invocations += n
		}
		f.invocations += len(j.answers) + len(j.refusals) + len(j.crashes)
		if len(j.answers) == 0 {
			r.gaveUp = append(r.gaveUp, fmt.Sprintf("write %d (%s): errors %v, refusals %q", j.n, j.kind.function, j.errors, j.refusals))
			continue
		}
		r.acked++
		f.acked++
		for _, a := range j.answers[1:] {
			if a != j.answers[0] {
				r.different = append(r.different, fmt.Sprintf("write %d (%s): %q then %q", j.n, j.kind.function, j.answers[0], a))
				break
			}
		}
	}
}

// clean reports whether none of the four failures happened.
func (r *report) clean() bool {
	return r.duplicates == 0 && len(r.lost) == 0 && len(r.crashes) == 0 && len(r.untyped) == 0
}

func perWrite(n float64, writes int) string {
	if writes == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", n/float64(writes))
}

// print writes the report as Markdown: the table BENCHMARKS.md records, then
// the details.
func (r *report) print(w io.Writer, c config) {
	ledger := "with the ledger"
	if !c.ledger {
		ledger = "without the ledger"
	}
	fmt.Fprintf(w, "\nChaos soak: %d invocations of %d writes in %s, API %s, %s, %d workers, %d environments per function, seed %d\n\n",
		r.invocations, r.writes, r.took.Round(time.Second), c.version, ledger, c.workers, c.environments, c.seed)
	fmt.Fprintln(w, "| figure | value | target |")
	fmt.Fprintln(w, "| --- | --- | --- |")
	row := func(name, value, target string) { fmt.Fprintf(w, "| %s | %s | %s |\n", name, value, target) }
	row("duplicate records (or approvals)", fmt.Sprint(r.duplicates), "0")
	row("lost acknowledged writes", fmt.Sprint(len(r.lost)), "0")
	row("crashes (process died, Task timed out)", fmt.Sprint(len(r.crashes)), "0")
	row("untyped failures (errorType not in the catalogue)", fmt.Sprint(len(r.untyped)), "0")
	row("keys answered two different ways", fmt.Sprint(len(r.different)), "0")
	row("writes acknowledged", fmt.Sprintf("%d of %d", r.acked, r.writes), "reported")
	row("Salesforce API calls per acknowledged write", perWrite(float64(r.apiCalls), r.acked), "reported")
	row("DynamoDB requests per acknowledged write", perWrite(float64(r.ddbRequests), r.acked), "reported")
	row("invocations per acknowledged write", perWrite(float64(r.invocations), r.acked), "reported")
	row("logins", fmt.Sprint(r.logins), "reported")

	fmt.Fprintln(w, "\n| function | writes | acknowledged | invocations |")
	fmt.Fprintln(w, "| --- | --- | --- | --- |")
	var names []string
	for name := range r.byKind {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		f := r.byKind[name]
		fmt.Fprintf(w, "| %s | %d | %d | %d |\n", name, f.writes, f.acked, f.invocations)
	}
	fmt.Fprintf(w, "\nDeliveries: ")
	var parts []string
	for i, n := range r.deliveries {
		parts = append(parts, fmt.Sprintf("%d %s", n, deliveryNames[i]))
	}
	fmt.Fprintf(w, "%s; %d whole-invocation retries with the same key.\n", strings.Join(parts, ", "), r.retries)
	fmt.Fprintf(w, "Faults injected: %s.\n", sortedCounts(r.faults))
	fmt.Fprintf(w, "Typed errors the writes got (then retried): %s; %d refusals.\n", sortedCounts(r.errorsTyped), len(r.refusals))
	for _, list := range []struct {
		name  string
		items []string
	}{{"lost", r.lost}, {"crashes", r.crashes}, {"untyped", r.untyped}, {"answered two ways", r.different}, {"never acknowledged", r.gaveUp}, {"refusals", r.refusals}} {
		if len(list.items) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s (%d), the first ones:\n", list.name, len(list.items))
		for _, s := range list.items[:min(len(list.items), 10)] {
			fmt.Fprintf(w, "- %s\n", s)
		}
	}
}

// sortedCounts writes counts as "name n" pairs, largest first.
func sortedCounts(m map[string]int) string {
	type kv struct {
		k string
		v int
	}
	var list []kv
	for k, v := range m {
		list = append(list, kv{k, v})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].v > list[j].v || list[i].v == list[j].v && list[i].k < list[j].k })
	var parts []string
	for _, e := range list {
		parts = append(parts, fmt.Sprintf("%s %d", e.k, e.v))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
