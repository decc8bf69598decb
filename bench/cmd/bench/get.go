package main

import (
	"context"
	"fmt"
	"time"

	"github.com/sfconnect/connector/local/rie"
)

// coldStarts alternates cold starts of the connector's GET function and the
// floor, rounds times each, swapping which goes first every round. Every cold
// start reads the secret from moto and logs in once.
func coldStarts(ctx context.Context, c config, w *world, t *table) error {
	progress(c, "cold starts: %d rounds, connector GET and floor alternating", c.rounds)
	fns := [2]function{w.function("get"), w.function("floor")}
	var took [2][]time.Duration
	var rss [2][]float64
	for r := range c.rounds {
		for k := range 2 {
			i := (r + k) % 2
			before := w.org.Logins()
			d, mem, err := coldStart(ctx, fns[i], w.event)
			if err != nil {
				return err
			}
			if n := w.org.Logins() - before; n != 1 {
				return fmt.Errorf("%s: a cold start logged in %d times, want 1", fns[i].name, n)
			}
			took[i] = append(took[i], d)
			rss[i] = append(rss[i], float64(mem.RSS)/(1<<20))
		}
	}
	conn, floor := durations(took[0]), durations(took[1])
	r := conn.median() / floor.median()
	t.add(row{Section: "Cold start (emulator start to the first GET's answer: secret from moto, login, GET)",
		Figure: "cold start, median", Value: ms(conn.median()), Other: ms(floor.median()), Ratio: ratio(r),
		Spread: "connector " + conn.spread("%.1f") + "; floor " + floor.spread("%.1f") + "; per-round ratio " + ratios(conn, floor).spread("%.2f"),
		Target: "≤ 1.3x floor", Met: met(r <= 1.3)})
	t.add(row{Section: "Logins", Figure: "logins per cold start (new execution environment)", Value: "1", Other: "1",
		Spread: fmt.Sprintf("checked on each of %d cold starts per side", c.rounds), Target: "1", Met: met(true)})
	rc, rf := sample(rss[0]), sample(rss[1])
	t.add(row{Section: "Memory", Figure: "resident after the first invoke (VmRSS), median",
		Value: fmt.Sprintf("%.1f MB", rc.median()), Other: fmt.Sprintf("%.1f MB", rf.median()),
		Ratio: ratio(rc.median() / rf.median()), Spread: "connector " + rc.spread("%.1f") + " MB; floor " + rf.spread("%.1f") + " MB",
		Target: "reported"})
	return nil
}

// warmGets runs the connector's GET and the floor in one execution
// environment each and alternates warm invokes between them, one by one,
// swapping which goes first every pair.
func warmGets(ctx context.Context, c config, w *world, t *table) error {
	progress(c, "warm GET: %d invokes per side, alternating", c.warm)
	fns := [2]function{w.function("get"), w.function("floor")}
	var emulators [2]*rie.Emulator
	var logins [2]int
	for i, f := range fns {
		e, err := f.start(ctx)
		if err != nil {
			return err
		}
		defer e.Close()
		before := w.org.Logins()
		if _, _, err := invoke(ctx, e, w.event, "200"); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
		logins[i] = w.org.Logins() - before
		emulators[i] = e
	}
	before := w.org.Logins()
	var took [2][]time.Duration
	for n := range c.warm {
		for k := range 2 {
			i := (n + k) % 2
			_, d, err := invoke(ctx, emulators[i], w.event, "200")
			if err != nil {
				return fmt.Errorf("%s: warm invoke %d: %w", fns[i].name, n+1, err)
			}
			took[i] = append(took[i], d)
		}
	}
	// Any login during the alternating invokes is a second one of an
	// environment; the org cannot tell whose, so both are charged with it.
	if again := w.org.Logins() - before; again > 0 {
		logins[0] += again
		logins[1] += again
	}
	conn, floor := durations(took[0]), durations(took[1])
	sec := "Warm GET through the full Lambda path (invoke to answer, under the emulator)"
	for _, q := range []struct {
		name string
		q    float64
		cap  float64
	}{{"median", 0.5, 1.2}, {"p90", 0.9, 0}, {"p99", 0.99, 1.2}} {
		r := conn.quantile(q.q) / floor.quantile(q.q)
		rw := row{Section: sec, Figure: "warm GET, " + q.name, Value: ms(conn.quantile(q.q)), Other: ms(floor.quantile(q.q)), Ratio: ratio(r), Target: "reported"}
		if q.cap > 0 {
			rw.Target, rw.Met = fmt.Sprintf("≤ %.1fx floor", q.cap), met(r <= q.cap)
		}
		if q.name == "median" {
			rw.Spread = "connector " + conn.spread("%.2f") + "; floor " + floor.spread("%.2f")
		}
		t.add(rw)
	}
	for _, f := range fns {
		mem, err := bootstrapMemory(f.bootstrap)
		if err != nil {
			return err
		}
		t.add(row{Section: "Memory", Figure: fmt.Sprintf("%s: resident after %d warm invokes (VmRSS / VmHWM)", label(f.name), c.warm+1),
			Value: mb(mem.RSS) + " / " + mb(mem.Peak), Target: "reported"})
	}
	t.add(row{Section: "Logins", Figure: fmt.Sprintf("logins of one execution environment over %d invokes", c.warm+1),
		Value: fmt.Sprint(logins[0]), Other: fmt.Sprint(logins[1]), Target: "1", Met: met(logins[0] == 1)})
	return nil
}

func label(name string) string {
	if name == "floor" {
		return "floor"
	}
	return "connector " + name
}
