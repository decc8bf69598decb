package main

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// goBenchmark is one result line of go test -bench: metric unit -> values,
// one per -count run.
type goBenchmark map[string]sample

// runGoBench runs the Go benchmarks matching pattern in pkg and returns the
// results by name (without the -GOMAXPROCS suffix).
func runGoBench(ctx context.Context, root, pkg, pattern, benchtime string, count int) (map[string]goBenchmark, error) {
	args := []string{"test", "-run", "^$", "-bench", pattern, "-benchmem", "-benchtime", benchtime, "-count", strconv.Itoa(count), pkg}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	results := parseGoBench(string(out))
	if len(results) == 0 {
		return nil, fmt.Errorf("go %s printed no results:\n%s", strings.Join(args, " "), out)
	}
	return results, nil
}

// parseGoBench reads go test -bench output: each result line's metrics by
// benchmark name, without the -GOMAXPROCS suffix.
func parseGoBench(out string) map[string]goBenchmark {
	results := map[string]goBenchmark{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := f[0]
		if i := strings.LastIndex(name, "-"); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		r := results[name]
		if r == nil {
			r = goBenchmark{}
			results[name] = r
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			r[f[i+1]] = append(r[f[i+1]], v)
		}
	}
	return results
}

// handlerOverhead runs BenchmarkHandlerOverhead (shared/connector) and
// reports the handler's cost above the raw HTTP round trip.
func handlerOverhead(ctx context.Context, c config, w *world, t *table) error {
	const count = 5
	progress(c, "go test -bench BenchmarkHandlerOverhead (-benchtime %s, -count %d)", c.benchtime, count)
	res, err := runGoBench(ctx, w.root, "./shared/connector", "^BenchmarkHandlerOverhead$", c.benchtime, count)
	if err != nil {
		return err
	}
	paired, handler, raw := res["BenchmarkHandlerOverhead/paired"], res["BenchmarkHandlerOverhead/handler"], res["BenchmarkHandlerOverhead/raw"]
	if paired == nil || handler == nil || raw == nil {
		return fmt.Errorf("BenchmarkHandlerOverhead: missing sub-benchmarks in %v", res)
	}
	sec := "In-process overhead (go test -bench BenchmarkHandlerOverhead -benchmem; in-process org)"
	us := func(s sample) string { return fmt.Sprintf("%.1f µs", s.median()/1000) }
	over := paired["overhead-ns/op"]
	t.add(row{Section: sec, Figure: "handler above the raw net/http GET, median of paired differences",
		Value: us(over), Other: "handler " + us(paired["handler-ns/op"]) + ", raw " + us(paired["raw-ns/op"]),
		Ratio:  ratio(paired["handler-ns/op"].median() / paired["raw-ns/op"].median()),
		Spread: fmt.Sprintf("%d runs: %s µs; mean of differences %s", count, scaled(over, 1e-3).spread("%.1f"), us(paired["overhead-mean-ns/op"])),
		Target: "< 50 µs", Met: met(over.median() < 50_000)})
	allocs := paired["overhead-allocs/op"]
	t.add(row{Section: sec, Figure: "allocations per call above the raw GET",
		Value: fmt.Sprintf("%.0f allocs", allocs.median()),
		Other: fmt.Sprintf("handler %.0f allocs, %.1f KB; raw %.0f allocs, %.1f KB (both include the in-process org's)",
			handler["allocs/op"].median(), handler["B/op"].median()/1024, raw["allocs/op"].median(), raw["B/op"].median()/1024),
		Spread: fmt.Sprintf("%.0f–%.0f", allocs.min(), allocs.max()),
		Target: "small, reported"})
	t.add(row{Section: sec, Figure: "each path alone, mean ns/op",
		Value: "handler " + us(handler["ns/op"]), Other: "raw " + us(raw["ns/op"]),
		Ratio:  ratio(handler["ns/op"].median() / raw["ns/op"].median()),
		Spread: "handler " + scaled(handler["ns/op"], 1e-3).spread("%.0f") + " µs; raw " + scaled(raw["ns/op"], 1e-3).spread("%.0f") + " µs",
		Target: "reported"})
	return nil
}

func scaled(s sample, f float64) sample {
	out := make(sample, len(s))
	for i, v := range s {
		out[i] = v * f
	}
	return out
}

// queryBenchmarks runs the Go benchmarks of the large QUERY's parts: one
// paged output of a 50,000-record result (shared/connector) and the client's
// merge of 25 pages of 2,000 records (shared/salesforce, the path the output
// budget now keeps from users).
func queryBenchmarks(ctx context.Context, c config, w *world, t *table, sec string) error {
	progress(c, "go test -bench BenchmarkQueryPage50000 and BenchmarkQueryMerge")
	for _, b := range []struct{ pkg, name, what string }{
		{"./shared/connector", "BenchmarkQueryPage50000/paged", "one paged QUERY output of a 50,000-record result, in process (go test -bench)"},
		{"./shared/connector", "BenchmarkQueryPage50000/unpaged", "an unpaged QUERY of 50,000 records to its budget error, in process (go test -bench)"},
		{"./shared/salesforce", "BenchmarkQueryMerge", "client merge of 50,000 records in 25 pages of 2,000, in process (go test -bench)"},
	} {
		top, _, _ := strings.Cut(b.name, "/")
		res, err := runGoBench(ctx, w.root, b.pkg, "^"+top+"$", "10x", 3)
		if err != nil {
			return err
		}
		r := res[b.name]
		if r == nil {
			return fmt.Errorf("%s: no result", b.name)
		}
		t.add(row{Section: sec, Figure: b.what,
			Value:  fmt.Sprintf("%.2f ms/op, %.2f MB/op, %.0f allocs/op", r["ns/op"].median()/1e6, r["B/op"].median()/(1<<20), r["allocs/op"].median()),
			Spread: fmt.Sprintf("3 runs of 10: %s ms", scaled(r["ns/op"], 1e-6).spread("%.2f")),
			Target: "reported"})
	}
	return nil
}
