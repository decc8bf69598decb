// Command demo runs the connector end to end on this machine, the way it runs
// when deployed, with local stand-ins for what a laptop lacks:
//
//   - a Salesforce org: the emulator of sforg, in this process;
//   - AWS Secrets Manager: a real moto_server, holding the secret
//     sfconnect/salesforce with the org's eight SALESFORCE_* settings;
//   - AWS Lambda: every function built for this host and run under the Lambda
//     Runtime Interface Emulator (what `sam local invoke` runs in its
//     container), configured as template.yaml configures it: only
//     SALESFORCE_SECRET_ID, so each function reads the secret and logs in itself.
//
// Then it tells a story through the functions, one invoke per step: create an
// Account, read, update and query it, submit it for approval, list the
// approval processes, approve it, define a custom object, create a record of
// it and delete that record. Each step prints its event, the function's output
// and how long the invoke took; the summary counts the logins the org saw,
// which should be one per function environment.
//
//	go run ./local/demo [-keep] [-v] [-http] [-addr 127.0.0.1:8080]
//
// The org serves HTTPS with its own certificate authority, which the
// functions trust through SSL_CERT_FILE, so the client's TLS paths run as in a
// deployment. -keep leaves everything running after the story and prints the
// org's settings, the secret and each function's invoke URL, until Ctrl-C. -v
// prints whole outputs and the functions' log lines. -http serves plain HTTP
// and -addr puts the org on a fixed address: -http -addr 127.0.0.1:8080 is
// what events/env.json names, so `make invoke` then reaches the demo's org and
// its records. The exit status is 1 when a step
// fails or something could not be started; everything the demo started is
// stopped before it exits, on Ctrl-C too.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/sfconnect/connector/local/cli"
)

func main() { cli.Main(realMain) }

func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.BoolVar(&o.keep, "keep", false, "leave the org, moto and the functions running after the story and print how to reach them; Ctrl-C stops them")
	fs.BoolVar(&o.verbose, "v", false, "print whole outputs and the functions' log lines")
	fs.StringVar(&o.addr, "addr", "127.0.0.1:0", "the org's listen address (127.0.0.1:8080 is the one events/env.json names)")
	fs.BoolVar(&o.http, "http", false, "serve the org over plain HTTP instead of HTTPS (what events/env.json expects)")
	if status, ok := cli.Parse(fs, args); !ok {
		return status
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "demo: unexpected arguments %q\n", fs.Args())
		return 2
	}
	o.out, o.log = stdout, stderr
	if _, err := run(ctx, o); err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "demo: interrupted; everything it started is stopped")
		} else {
			fmt.Fprintln(stderr, "demo:", err)
		}
		return 1
	}
	return 0
}
