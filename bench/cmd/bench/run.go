package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"time"

	"github.com/sfconnect/connector/local/demo/stack"
	"github.com/sfconnect/connector/local/moto"
	"github.com/sfconnect/connector/local/rie"
	"github.com/sfconnect/connector/sforg"
)

// world is what every measurement shares: one org, one moto holding the
// secret, the bootstraps built for this host.
type world struct {
	root  string
	dir   string
	org   *sforg.Server
	moto  *moto.Server
	bins  map[string]string // host bootstraps by name: get, create, query, floor
	env   map[string]string // the functions' configuration: secret id, moto
	event []byte            // the GET event: one Account of the org
}

func (w *world) function(name string) function {
	return function{name: name, bootstrap: w.bins[name], env: w.env}
}

func (w *world) close() {
	if w.moto != nil {
		w.moto.Close()
	}
	if w.org != nil {
		w.org.Close()
	}
	if w.dir != "" {
		os.RemoveAll(w.dir)
	}
}

// orgOptions lift the org's daily API allocation, which the benchmark's tens
// of thousands of calls would otherwise exhaust.
var orgOptions = sforg.Options{DailyLimit: 100_000_000}

func run(ctx context.Context, c config) (*table, error) {
	t := &table{}
	w := &world{}
	defer w.close()
	var err error
	if w.root, err = rie.ModuleRoot(); err != nil {
		return nil, err
	}
	if !rieInstalled(w.root) {
		return nil, rie.ErrNotInstalled // before minutes of building
	}
	if w.dir, err = os.MkdirTemp("", "sfconnect-bench-"); err != nil {
		return nil, err
	}
	progress(c, "building the functions and the floor for %s/%s and linux/arm64", runtime.GOOS, runtime.GOARCH)
	built := time.Now()
	if w.bins, err = hostBuild(ctx, w.dir, []string{"./functions/get", "./functions/create", "./functions/query", "./bench/floor"}); err != nil {
		return nil, err
	}
	sizes, err := armSizes(ctx, w)
	if err != nil {
		return nil, err
	}
	progress(c, "built in %s", time.Since(built).Round(time.Millisecond))

	if w.org, err = sforg.Start(orgOptions); err != nil {
		return nil, err
	}
	if w.moto, err = moto.Start(ctx, nil); err != nil {
		return nil, err
	}
	secret, err := stack.SecretString(w.org.Settings())
	if err != nil {
		return nil, err
	}
	if err := w.moto.CreateSecret(ctx, stack.SecretName, secret); err != nil {
		return nil, err
	}
	w.env = stack.FunctionEnv(stack.SecretName, w.moto)
	id, err := w.org.Store().Insert("Account", map[string]any{"Name": "Benchmark Account", "Industry": "Energy", "NumberOfEmployees": 42.0})
	if err != nil {
		return nil, err
	}
	w.event, _ = json.Marshal(map[string]string{"SObjectName": "Account", "SObjectId": id})

	describe(t, c)
	if err := coldStarts(ctx, c, w, t); err != nil {
		return t, err
	}
	if err := warmGets(ctx, c, w, t); err != nil {
		return t, err
	}
	if err := concurrentLogins(ctx, w, t); err != nil {
		return t, err
	}
	if c.goBench {
		if err := handlerOverhead(ctx, c, w, t); err != nil {
			return t, err
		}
	}
	reportSizes(t, sizes)
	if err := largeQuery(ctx, c, w, t); err != nil {
		return t, err
	}
	if err := jsforcePeer(ctx, c, w, t); err != nil {
		return t, err
	}
	if err := apiCallsPerWrite(ctx, c, w, t); err != nil {
		return t, err
	}
	if err := bulkCalls(ctx, c, w, t); err != nil {
		return t, err
	}
	if err := bulkThroughput(ctx, c, w, t); err != nil {
		return t, err
	}
	return t, nil
}

func progress(c config, format string, args ...any) {
	fmt.Fprintf(c.log, "bench: "+format+"\n", args...)
}

// describe notes the machine and the run's parameters.
func describe(t *table, c config) {
	host, _ := os.Hostname()
	t.note("machine: %s, %s/%s, %d CPUs (%s), %s", cpuModel(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), host, memTotal())
	t.note("toolchain: %s; functions built with %v", runtime.Version(), slices.Concat(rie.BuildFlags, stripFlags))
	t.note("rounds: %d cold starts per side; %d rounds of %d warm invokes per side; %d cold and %d warm CREATE-GET-QUERY sequences per side; a %d-record QUERY",
		c.rounds, c.warmRounds, c.warm, c.jsRounds, c.jsWarm, c.records)
	t.note("run at %s", time.Now().UTC().Format(time.RFC3339))
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range splitLines(string(b)) {
		if k, v, ok := cut(line, ":"); ok && k == "model name" {
			return v
		}
	}
	return "unknown CPU"
}

func memTotal() string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "unknown memory"
	}
	for _, line := range splitLines(string(b)) {
		if k, v, ok := cut(line, ":"); ok && k == "MemTotal" {
			var kb int64
			fmt.Sscanf(v, "%d", &kb)
			return fmt.Sprintf("%.0f GB RAM", float64(kb)/(1<<20))
		}
	}
	return "unknown memory"
}

// armSizes builds every function and the floor for linux/arm64, as Lambda
// runs them, and measures each.
func armSizes(ctx context.Context, w *world) ([]size, error) {
	names, err := stack.Functions()
	if err != nil {
		return nil, err
	}
	pkgs := []string{"./bench/floor"}
	for _, n := range names {
		pkgs = append(pkgs, "./functions/"+n)
	}
	paths, err := build(ctx, w.dir, "linux", "arm64", pkgs)
	if err != nil {
		return nil, err
	}
	var out []size
	for name, p := range paths {
		s, err := sizeOf(name, p)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func reportSizes(t *table, sizes []size) {
	const limit = 10 << 20
	var floor size
	for _, s := range sizes {
		if s.Name == "floor" {
			floor = s
		}
	}
	for _, s := range sizes {
		if s.Name == "floor" {
			continue
		}
		t.add(row{Section: "Size (linux/arm64, the Makefile's flags; MB = 2^20 bytes)", Figure: "bootstrap " + s.Name,
			Value: fmt.Sprintf("%s (%d bytes); zip %s", mb(s.Binary), s.Binary, mb(s.Zipped)),
			Other: fmt.Sprintf("%s; zip %s", mb(floor.Binary), mb(floor.Zipped)),
			Ratio: ratio(float64(s.Binary) / float64(floor.Binary)), Target: "≤ 10 MB", Met: met(s.Binary <= limit)})
	}
}

// rieInstalled looks for the emulator where package rie does.
func rieInstalled(root string) bool {
	if os.Getenv("AWS_LAMBDA_RIE") != "" {
		return true
	}
	if _, err := os.Stat(filepath.Join(root, "bin", "aws-lambda-rie")); err == nil {
		return true
	}
	_, err := exec.LookPath("aws-lambda-rie")
	return err == nil
}
