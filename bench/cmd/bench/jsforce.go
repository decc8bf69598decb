package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/sfconnect/connector/local/rie"
	"github.com/sfconnect/connector/shared/connector"
)

// jsLine is one line bench-jsforce.js prints.
type jsLine struct {
	OK    bool               `json:"ok"`
	Error string             `json:"error"`
	MS    map[string]float64 `json:"ms"`
	ID    string             `json:"id"`
}

// jsforcePeer compares the connector's CREATE, GET and QUERY functions with
// jsforce doing the same three calls, cold (new process or new execution
// environments) and warm, alternating.
func jsforcePeer(ctx context.Context, c config, w *world, t *table) error {
	sec := "Peer: the CREATE, GET, QUERY sequence, connector functions vs jsforce 3.10.16 (Node)"
	node, err := exec.LookPath("node")
	script := filepath.Join(w.root, "local", "js", "bench-jsforce.js")
	if err == nil {
		_, err = os.Stat(filepath.Join(w.root, "local", "js", "node_modules", "jsforce"))
	}
	if err != nil {
		t.add(row{Section: sec, Figure: "jsforce peer", Value: "not run: " + err.Error() + " (make tools installs local/js/node_modules)"})
		return nil
	}
	version, _ := exec.CommandContext(ctx, node, "--version").Output()
	t.note("peer: jsforce 3.10.16 on Node %s (local/js/bench-jsforce.js)", strings.TrimSpace(string(version)))
	jsEnv := os.Environ()
	for k, v := range w.org.Settings() {
		jsEnv = append(jsEnv, k+"="+v)
	}
	fns := []function{w.function("create"), w.function("get"), w.function("query")}

	// Cold: a new process for jsforce; three new execution environments, one
	// after the other as a workflow meets them, for the connector.
	progress(c, "jsforce peer: %d cold sequences per side, alternating", c.jsRounds)
	var coldConn, coldJS []time.Duration
	var loginsConn, loginsJS int
	var jsParts []map[string]float64
	for r := range c.jsRounds {
		for k := range 2 {
			before := w.org.Logins()
			if (r+k)%2 == 0 {
				d, err := connectorColdSequence(ctx, fns)
				if err != nil {
					return err
				}
				coldConn = append(coldConn, d)
				loginsConn = w.org.Logins() - before
				continue
			}
			d, line, err := jsforceCold(ctx, node, script, jsEnv)
			if err != nil {
				return err
			}
			coldJS = append(coldJS, d)
			jsParts = append(jsParts, line.MS)
			loginsJS = w.org.Logins() - before
		}
	}
	cc, cj := durations(coldConn), durations(coldJS)
	t.add(row{Section: sec, Figure: "cold sequence (start to the QUERY's answer), median",
		Value: ms(cc.median()), Other: ms(cj.median()), Ratio: ratio(cc.median() / cj.median()),
		Spread: "connector " + cc.spread("%.1f") + "; jsforce " + cj.spread("%.1f") + "; jsforce load " + ms(part(jsParts, "load")) + ", login " + ms(part(jsParts, "login")),
		Target: "reported (lower is better)"})
	t.add(row{Section: sec, Figure: "logins of one cold sequence", Value: fmt.Sprintf("%d (one per function)", loginsConn), Other: fmt.Sprint(loginsJS), Target: "reported"})

	// Warm: one environment per function, one jsforce process and one
	// connector in this process, each warmed by one sequence; then the
	// sequences alternate, the first of each round rotating.
	progress(c, "jsforce peer: %d warm sequences per side, alternating", c.jsWarm)
	var ems []*rie.Emulator
	for _, f := range fns {
		e, err := f.start(ctx)
		if err != nil {
			return err
		}
		defer e.Close()
		ems = append(ems, e)
	}
	js, err := startJSForce(ctx, node, script, jsEnv)
	if err != nil {
		return err
	}
	defer js.close()
	conn, err := inProcess(w)
	if err != nil {
		return err
	}
	sides := []func() (time.Duration, error){
		func() (time.Duration, error) { return connectorSequence(running(ctx, ems)) },
		func() (time.Duration, error) {
			// jsforce's own measure, without the pipe to this process.
			_, line, err := js.sequence()
			return time.Duration(line.MS["total"] * float64(time.Millisecond)), err
		},
		func() (time.Duration, error) { return connectorSequence(direct(ctx, conn)) },
	}
	warm := make([][]time.Duration, len(sides))
	for i := -1; i < c.jsWarm; i++ {
		for k := range sides {
			side := (max(i, 0) + k) % len(sides)
			d, err := sides[side]()
			if err != nil {
				return err
			}
			if i >= 0 { // the first pass warms
				warm[side] = append(warm[side], d)
			}
		}
	}
	wc, wj, wd := durations(warm[0]), durations(warm[1]), durations(warm[2])
	for _, q := range []struct {
		name string
		q    float64
	}{{"median", 0.5}, {"p99", 0.99}} {
		rw := row{Section: sec, Figure: "warm sequence through the functions, " + q.name, Value: ms(wc.quantile(q.q)), Other: ms(wj.quantile(q.q)),
			Ratio: ratio(wc.quantile(q.q) / wj.quantile(q.q)), Target: "reported (lower is better)"}
		if q.name == "median" {
			rw.Spread = "connector " + wc.spread("%.2f") + "; jsforce " + wj.spread("%.2f")
		}
		t.add(rw)
	}
	for _, q := range []struct {
		name string
		q    float64
	}{{"median", 0.5}, {"p99", 0.99}} {
		rw := row{Section: sec, Figure: "warm sequence in process (the connector's actions called directly, no Lambda hop), " + q.name,
			Value: ms(wd.quantile(q.q)), Other: ms(wj.quantile(q.q)),
			Ratio: ratio(wd.quantile(q.q) / wj.quantile(q.q)), Target: "reported (lower is better)"}
		if q.name == "median" {
			rw.Spread = "connector " + wd.spread("%.2f") + "; jsforce " + wj.spread("%.2f")
		}
		t.add(rw)
	}
	return nil
}

// part is the median of one stage of jsforce's own timings.
func part(lines []map[string]float64, key string) float64 {
	var s sample
	for _, l := range lines {
		s = append(s, l[key])
	}
	return s.median()
}

// step runs step i of the sequence (0 CREATE, 1 GET, 2 QUERY) with an event
// and returns the output, failing unless its status is want.
type step func(i int, event []byte, want string) (output, error)

// connectorSequence runs CREATE, GET and QUERY and returns the time from the
// first call to the last answer.
func connectorSequence(run step) (time.Duration, error) {
	start := time.Now()
	call := func(i int, event map[string]any, want string) (output, error) {
		b, _ := json.Marshal(event)
		return run(i, b, want)
	}
	out, err := call(0, map[string]any{"SObjectName": "Account", "salesforcePayload": map[string]any{"Name": "connector benchmark", "Industry": "Energy"}}, "201")
	if err != nil {
		return 0, fmt.Errorf("create: %w", err)
	}
	var created struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(out.Result), &created); err != nil || created.ID == "" {
		return 0, fmt.Errorf("create: result %s has no id", out.Result)
	}
	if _, err := call(1, map[string]any{"SObjectName": "Account", "SObjectId": created.ID}, "200"); err != nil {
		return 0, fmt.Errorf("get: %w", err)
	}
	out, err = call(2, map[string]any{"salesforceQuery": "SELECT Id, Name FROM Account WHERE Id = '" + created.ID + "'"}, "200")
	if err != nil {
		return 0, fmt.Errorf("query: %w", err)
	}
	if out.TotalSize != 1 {
		return 0, fmt.Errorf("query: got %d records, want 1", out.TotalSize)
	}
	return time.Since(start), nil
}

// running calls functions already started.
func running(ctx context.Context, ems []*rie.Emulator) step {
	return func(i int, event []byte, want string) (output, error) {
		out, _, err := invoke(ctx, ems[i], event, want)
		return out, err
	}
}

// direct calls the connector's actions in this process: the same work
// without the Lambda hop.
func direct(ctx context.Context, conn *connector.Connector) step {
	actions := []func(context.Context, []byte) ([]byte, error){conn.Create, conn.Get, conn.Query}
	return func(i int, event []byte, want string) (output, error) {
		body, err := actions[i](ctx, event)
		if err != nil {
			return output{}, err
		}
		var out output
		if err := json.Unmarshal(body, &out); err != nil {
			return out, err
		}
		if out.Status != want {
			return out, fmt.Errorf("got salesforceStatus %q, want %q: %.300s", out.Status, want, out.Result)
		}
		return out, nil
	}
}

// connectorColdSequence starts each function when the sequence reaches it, as
// a workflow's first run meets three cold functions one after the other.
func connectorColdSequence(ctx context.Context, fns []function) (time.Duration, error) {
	var ems []*rie.Emulator
	defer func() {
		for _, e := range ems {
			e.Close()
		}
	}()
	return connectorSequence(func(i int, event []byte, want string) (output, error) {
		e, err := fns[i].start(ctx)
		if err != nil {
			return output{}, err
		}
		ems = append(ems, e)
		out, _, err := invoke(ctx, e, event, want)
		return out, err
	})
}

// jsforceCold runs one cold sequence in a new Node process and returns the
// time from starting the process to its result line.
func jsforceCold(ctx context.Context, node, script string, env []string) (time.Duration, jsLine, error) {
	start := time.Now()
	cmd := exec.CommandContext(ctx, node, script, "cold")
	cmd.Dir = filepath.Dir(script)
	cmd.Env = env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, jsLine{}, err
	}
	if err := cmd.Start(); err != nil {
		return 0, jsLine{}, err
	}
	line, err := readLine(bufio.NewReader(stdout))
	took := time.Since(start)
	io.Copy(io.Discard, stdout)
	waitErr := cmd.Wait()
	if err == nil && waitErr != nil {
		err = fmt.Errorf("jsforce cold: %w: %s", waitErr, stderr.String())
	}
	return took, line, err
}

// jsProcess is the long-lived jsforce process of the warm runs.
type jsProcess struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

func startJSForce(ctx context.Context, node, script string, env []string) (*jsProcess, error) {
	cmd := exec.CommandContext(ctx, node, script, "warm")
	cmd.Dir = filepath.Dir(script)
	cmd.Env = env
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &jsProcess{cmd: cmd, in: in, out: bufio.NewReader(out)}
	if _, err := readLine(p.out); err != nil { // logged in and ready
		p.close()
		return nil, err
	}
	return p, nil
}

// sequence asks for one sequence and returns the time to its answer.
func (p *jsProcess) sequence() (time.Duration, jsLine, error) {
	start := time.Now()
	if _, err := io.WriteString(p.in, "run\n"); err != nil {
		return 0, jsLine{}, err
	}
	line, err := readLine(p.out)
	return time.Since(start), line, err
}

func (p *jsProcess) close() {
	p.in.Close()
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
}

func readLine(r *bufio.Reader) (jsLine, error) {
	text, err := r.ReadString('\n')
	if err != nil {
		return jsLine{}, fmt.Errorf("jsforce: no result line: %w", err)
	}
	var l jsLine
	if err := json.Unmarshal([]byte(text), &l); err != nil {
		return l, fmt.Errorf("jsforce: %q: %w", text, err)
	}
	if !l.OK {
		return l, errors.New("jsforce: " + l.Error)
	}
	return l, nil
}
