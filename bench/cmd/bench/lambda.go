package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"time"

	"github.com/sfconnect/connector/local/rie"
)

// function is one bootstrap and the configuration it runs with.
type function struct {
	name      string
	bootstrap string
	env       map[string]string
	log       io.Writer // the emulator's and the function's output; nil discards it
}

// start runs the function under its own emulator.
func (f function) start(ctx context.Context) (*rie.Emulator, error) {
	e, err := rie.Start(ctx, rie.Options{Bootstrap: f.bootstrap, FunctionName: f.name, Env: f.env, Log: f.log})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.name, err)
	}
	return e, nil
}

// output is the part of a function's output the benchmark checks.
type output struct {
	Status      string  `json:"salesforceStatus"`
	Result      string  `json:"salesforceResult"`
	Done        bool    `json:"done"`
	Cursor      *string `json:"cursor"`
	RecordCount int     `json:"recordCount"`
	TotalSize   int     `json:"totalSize"`
}

// invoke sends one event and returns the output, how long the invoke took as
// the caller saw it, and an error unless the function answered with a result
// whose status is want ("" accepts any result).
func invoke(ctx context.Context, e *rie.Emulator, event []byte, want string) (output, time.Duration, error) {
	start := time.Now()
	res, err := e.Invoke(ctx, event)
	took := time.Since(start)
	if err != nil {
		return output{}, took, err
	}
	if res.Failed() {
		return output{}, took, fmt.Errorf("invoke failed: status %d, %s: %s", res.Status, res.ErrorType, res.ErrorMessage)
	}
	var out output
	if err := json.Unmarshal(res.Body, &out); err != nil {
		return output{}, took, fmt.Errorf("output %.200s: %w", res.Body, err)
	}
	if want != "" && out.Status != want {
		return out, took, fmt.Errorf("got salesforceStatus %q, want %q: %.300s", out.Status, want, out.Result)
	}
	return out, took, nil
}

// cold is one cold start: its total and its parts.
type cold struct {
	total   time.Duration // starting the emulator to the first answer
	init    float64       // ms from the emulator's exec of the bootstrap to its first call for an event (INIT REPORT)
	handler float64       // ms the function spent on the event: secret, login, GET (its log line's durationMs)
	mem     memory        // the bootstrap's memory after the invoke
}

var (
	initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)
	durationMs = regexp.MustCompile(`"durationMs":([0-9.]+)`)
)

// coldStart starts the function under a new emulator, invokes it once and
// stops it.
func coldStart(ctx context.Context, f function, event []byte) (cold, error) {
	var c cold
	var log rie.Buffer
	f.log = &log
	start := time.Now()
	e, err := f.start(ctx)
	if err != nil {
		return c, err
	}
	defer e.Close()
	if _, _, err := invoke(ctx, e, event, "200"); err != nil {
		return c, fmt.Errorf("%s: first invoke: %w", f.name, err)
	}
	c.total = time.Since(start)
	if c.mem, err = bootstrapMemory(f.bootstrap); err != nil {
		return c, err
	}
	out := log.String()
	m, h := initReport.FindStringSubmatch(out), durationMs.FindStringSubmatch(out)
	if m == nil || h == nil {
		return c, fmt.Errorf("%s: no INIT REPORT or durationMs in the output:\n%s", f.name, out)
	}
	c.init, _ = strconv.ParseFloat(m[1], 64)
	c.handler, _ = strconv.ParseFloat(h[1], 64)
	return c, nil
}
