// Command bench is the connector's benchmark suite (make bench). It builds the
// functions and the floor (bench/floor) with the Makefile's flags, starts the
// org emulator and moto with the Salesforce secret, and measures, side by side
// and alternating in rounds:
//
//   - cold start under the Runtime Interface Emulator, connector GET vs floor;
//   - warm GET through the full Lambda path, connector vs floor;
//   - the in-process handler overhead (go test -bench BenchmarkHandlerOverhead);
//   - logins per execution environment and for 50 concurrent callers;
//   - bootstrap sizes for linux/arm64, plain and zipped;
//   - resident and peak memory, including a 50,000-record QUERY;
//   - the CREATE, GET, QUERY sequence against jsforce, cold and warm;
//   - API calls per 10,000 records written: CREATE one by one vs COLLECTION.
//   - Bulk API 2.0 through S3: API calls of an import, throughput and memory
//     of a 1,000,000-record import and export.
//
// It prints one table (Markdown) with every figure, its spread, the ratio and
// whether the target holds; BENCHMARKS.md records a run. Only ratios of
// figures measured in the same run mean anything on a shared machine.
//
//	go run ./bench/cmd/bench [-quick] [-rounds 30] [-warm 1000] [-warm-rounds 5]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/sfconnect/connector/local/cli"
)

func main() { cli.Main(realMain) }

// config is the command line's choices.
type config struct {
	rounds      int  // cold-start rounds per side
	warm        int  // warm invokes per side and round
	warmRounds  int  // rounds of warm invokes
	jsRounds    int  // cold jsforce/connector sequence rounds
	jsWarm      int  // warm sequences per side
	records     int  // the large QUERY's records
	queryRounds int  // walks through it per size
	written     int  // records written per way of writing, for the API-call figure
	goBench     bool // run the Go benchmarks
	bulkWritten int  // records of the import whose API calls are counted
	bulkRecords int  // records of the large bulk import and export
	benchtime   string
	log         io.Writer
}

func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	quick := fs.Bool("quick", false, "fewer rounds, for a smoke run (the figures are then not the published ones)")
	fs.IntVar(&c.rounds, "rounds", 30, "cold starts per side, alternating")
	fs.IntVar(&c.warm, "warm", 1000, "warm GET invokes per side and round, alternating")
	fs.IntVar(&c.warmRounds, "warm-rounds", 5, "rounds of warm GET invokes, each in new execution environments")
	fs.IntVar(&c.jsRounds, "js-rounds", 10, "cold CREATE-GET-QUERY sequences per side, alternating")
	fs.IntVar(&c.jsWarm, "js-warm", 300, "warm CREATE-GET-QUERY sequences per side, alternating")
	fs.IntVar(&c.records, "records", 50_000, "records of the large QUERY (in pages of 2,000); its small twin has a fifth")
	fs.IntVar(&c.queryRounds, "query-rounds", 3, "walks through each large QUERY result, alternating the sizes")
	fs.IntVar(&c.written, "written", 10_000, "records written one by one (CREATE) and 200 at a time (COLLECTION), for the API calls each costs")
	fs.BoolVar(&c.goBench, "go-bench", true, "run the Go benchmarks (handler overhead, QUERY parts)")
	fs.IntVar(&c.bulkWritten, "bulk-written", 10_000, "records of the Bulk API 2.0 import whose API calls are counted")
	fs.IntVar(&c.bulkRecords, "bulk-records", 1_000_000, "records of the large Bulk API 2.0 import and export (their small twin has 10,000)")
	fs.StringVar(&c.benchtime, "benchtime", "2s", "-benchtime of BenchmarkHandlerOverhead")
	if status, ok := cli.Parse(fs, args); !ok {
		return status
	}
	if *quick {
		c.rounds, c.warm, c.warmRounds, c.jsRounds, c.jsWarm, c.queryRounds, c.benchtime = 4, 100, 2, 2, 20, 1, "300ms"
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["bulk-records"] {
			c.bulkRecords = 100_000
		}
	}
	c.log = stderr
	start := time.Now()
	t, err := run(ctx, c)
	if t != nil {
		t.print(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	fmt.Fprintf(stderr, "bench: done in %s\n", time.Since(start).Round(time.Second))
	if t.failed() {
		fmt.Fprintln(stderr, "bench: some targets are not met (see the table)")
	}
	return 0
}
