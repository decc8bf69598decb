// Command soak is the chaos soak of exactly-once writes (make soak): a
// benchmark, not a test. It builds the write functions, runs several
// execution environments of each under the Lambda Runtime Interface Emulator
// against the local org (sforg, in this process) with the idempotency ledger
// in moto's DynamoDB, and drives at least -invocations invokes of them the way
// at-least-once triggers do: every write carries an idempotency key; some are
// delivered twice at once (two environments), some as EventBridge events whose
// id is the key, some again after they succeeded; a write that fails with a
// retryable error is run again whole with the same key, as a Step Functions
// Retry does. Meanwhile the org misbehaves at random: connections dropped
// before and after the work, 5xx answers, answers slower than an attempt or
// than the invocation's deadline, sessions that expire.
//
// At the end it waits for the org to finish every request it received, checks
// every write against the org, and prints one table: duplicate records, lost
// acknowledged writes, crashes and untyped failures (each must be 0: the exit
// status says whether they are), and what a write cost in Salesforce API calls
// and DynamoDB requests. BENCHMARKS.md records a run.
//
//	go run ./bench/cmd/soak [-invocations 10000] [-workers 12] [-environments 3] [-seed 1] [-version 66.0] [-quick]
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
	invocations  int     // invokes to make, at least
	workers      int     // writes driven at once
	environments int     // execution environments (emulators) per function
	seed         uint64  // of the random choices: writes, deliveries, faults
	faultRate    float64 // faults injected per invocation, on average
	version      string  // the API version the functions log in with
	ledger       bool    // with the idempotency table
	log          io.Writer
}

func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	quick := fs.Bool("quick", false, "600 invocations, for a smoke run (the figures are then not the published ones)")
	fs.IntVar(&c.invocations, "invocations", 10_000, "invokes of the write functions to make, at least")
	fs.IntVar(&c.workers, "workers", 12, "writes driven at once")
	fs.IntVar(&c.environments, "environments", 3, "execution environments (Runtime Interface Emulators) per function")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the random writes, deliveries and faults")
	fs.Float64Var(&c.faultRate, "fault-rate", 0.15, "faults injected into the org per invocation, on average")
	fs.StringVar(&c.version, "version", "66.0", "SALESFORCE_VERSION of the functions (56.0 and later: the UI API's Idempotency-Key too)")
	fs.BoolVar(&c.ledger, "ledger", true, "configure the idempotency ledger (SALESFORCE_IDEMPOTENCY_TABLE)")
	if status, ok := cli.Parse(fs, args); !ok {
		return status
	}
	if *quick {
		c.invocations = 600
	}
	c.log = stderr
	start := time.Now()
	r, err := run(ctx, c)
	if r != nil {
		r.print(stdout, c)
	}
	if err != nil {
		fmt.Fprintln(stderr, "soak:", err)
		return 1
	}
	fmt.Fprintf(stderr, "soak: done in %s\n", time.Since(start).Round(time.Second))
	if !r.clean() {
		fmt.Fprintln(stderr, "soak: duplicates, lost acknowledged writes, crashes or untyped failures (see the table)")
		return 1
	}
	return 0
}
