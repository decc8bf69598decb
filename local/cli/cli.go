// Package cli is what the local commands (demo, bench) do alike around their
// own work: a context that ends on Ctrl-C or SIGTERM, so that they can stop
// what they started, and the exit statuses of flag parsing.
package cli

import (
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Main runs realMain with the command line, stdout, stderr and a context that
// ends on Ctrl-C or SIGTERM, and exits with the status realMain returns.
func Main(realMain func(ctx context.Context, args []string, stdout, stderr io.Writer) int) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := realMain(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Parse parses args with fs. When ok is false the command stops there with
// status, as flag.ExitOnError would: 0 after -h or -help (fs has printed the
// usage), 2 after a bad flag (fs has printed the error and the usage).
func Parse(fs *flag.FlagSet, args []string) (status int, ok bool) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return 0, true
	case errors.Is(err, flag.ErrHelp):
		return 0, false
	default:
		return 2, false
	}
}
