package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sfconnect/connector/local/rie"
)

// function is one bootstrap and the configuration it runs with.
type function struct {
	name      string
	bootstrap string
	env       map[string]string
}

// start runs the function under its own emulator.
func (f function) start(ctx context.Context) (*rie.Emulator, error) {
	e, err := rie.Start(ctx, rie.Options{Bootstrap: f.bootstrap, FunctionName: f.name, Env: f.env})
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

// coldStart starts the function under a new emulator, invokes it once and
// stops it: the time from starting the emulator to the answer, and the
// bootstrap's memory after that first invoke.
func coldStart(ctx context.Context, f function, event []byte) (time.Duration, memory, error) {
	start := time.Now()
	e, err := f.start(ctx)
	if err != nil {
		return 0, memory{}, err
	}
	defer e.Close()
	if _, _, err := invoke(ctx, e, event, "200"); err != nil {
		return 0, memory{}, fmt.Errorf("%s: first invoke: %w", f.name, err)
	}
	took := time.Since(start)
	mem, err := bootstrapMemory(f.bootstrap)
	return took, mem, err
}
