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
	var rss, inits, handlers [2]sample
	for r := range c.rounds {
		for k := range 2 {
			i := (r + k) % 2
			before := w.org.Logins()
			cs, err := coldStart(ctx, fns[i], w.event)
			if err != nil {
				return err
			}
			if n := w.org.Logins() - before; n != 1 {
				return fmt.Errorf("%s: a cold start logged in %d times, want 1", fns[i].name, n)
			}
			took[i] = append(took[i], cs.total)
			rss[i] = append(rss[i], float64(cs.mem.RSS)/(1<<20))
			inits[i] = append(inits[i], cs.init)
			handlers[i] = append(handlers[i], cs.handler)
		}
	}
	conn, floor := durations(took[0]), durations(took[1])
	r := conn.median() / floor.median()
	sec := "Cold start (emulator start to the first GET's answer: secret from moto, login, GET)"
	t.add(row{Section: sec,
		Figure: "cold start, median", Value: ms(conn.median()), Other: ms(floor.median()), Ratio: ratio(r),
		Spread: "connector " + conn.spread("%.1f") + "; floor " + floor.spread("%.1f") + "; per-round ratio " + ratios(conn, floor).spread("%.2f"),
		Target: "≤ 1.3x floor", Met: met(r <= 1.3)})
	t.add(row{Section: sec, Figure: "part: init (exec of the bootstrap to its first event; the emulator's INIT REPORT), median",
		Value: ms(inits[0].median()), Other: ms(inits[1].median()), Ratio: ratio(inits[0].median() / inits[1].median()),
		Spread: "connector " + inits[0].spread("%.1f") + "; floor " + inits[1].spread("%.1f"), Target: "reported"})
	t.add(row{Section: sec, Figure: "part: first event in the handler (secret, login, GET; the function's durationMs), median",
		Value: ms(handlers[0].median()), Other: ms(handlers[1].median()), Ratio: ratio(handlers[0].median() / handlers[1].median()),
		Spread: "connector " + handlers[0].spread("%.1f") + "; floor " + handlers[1].spread("%.1f"), Target: "reported"})
	t.add(row{Section: "Logins", Figure: "logins per cold start (new execution environment)", Value: "1", Other: "1",
		Spread: fmt.Sprintf("checked on each of %d cold starts per side", c.rounds), Target: "1", Met: met(true)})
	rc, rf := sample(rss[0]), sample(rss[1])
	t.add(row{Section: "Memory", Figure: "resident after the first invoke (VmRSS), median",
		Value: fmt.Sprintf("%.1f MB", rc.median()), Other: fmt.Sprintf("%.1f MB", rf.median()),
		Ratio: ratio(rc.median() / rf.median()), Spread: "connector " + rc.spread("%.1f") + " MB; floor " + rf.spread("%.1f") + " MB",
		Target: "reported"})
	return nil
}

// warmGets measures warm GETs in rounds. Each round starts one new execution
// environment per side, invokes each once (the cold start, not counted), then
// alternates c.warm warm invokes between them one by one, swapping which goes
// first every pair. A round gives a median, p90 and p99 per side over c.warm
// invokes and their ratios; the table shows the median of the rounds' ratios
// and their range, so one noisy round (other work on a shared machine) shows
// as spread instead of deciding the figure.
func warmGets(ctx context.Context, c config, w *world, t *table) error {
	progress(c, "warm GET: %d rounds of %d invokes per side, alternating", c.warmRounds, c.warm)
	fns := [2]function{w.function("get"), w.function("floor")}
	quantiles := []struct {
		name string
		q    float64
		cap  float64 // the target ratio; 0: reported only
	}{{"median", 0.5, 1.2}, {"p90", 0.9, 0}, {"p99", 0.99, 1.2}}
	var all [2]sample
	perRound := make([][2]sample, len(quantiles)) // quantile -> side -> one value per round
	maxLogins := 0
	var mems [2]memory
	for r := range c.warmRounds {
		took, logins, mem, err := warmRound(ctx, c, w, fns)
		if err != nil {
			return err
		}
		maxLogins = max(maxLogins, logins)
		for i := range 2 {
			all[i] = append(all[i], took[i]...)
			for k, q := range quantiles {
				perRound[k][i] = append(perRound[k][i], took[i].quantile(q.q))
			}
			if r == c.warmRounds-1 {
				mems[i] = mem[i]
			}
		}
	}
	sec := fmt.Sprintf("Warm GET through the full Lambda path (invoke to answer under the emulator; %d rounds of %d invokes per side)", c.warmRounds, c.warm)
	for k, q := range quantiles {
		conn, floor := perRound[k][0], perRound[k][1]
		rs := ratios(conn, floor)
		rw := row{Section: sec, Figure: "warm GET, " + q.name + " (of each round's " + fmt.Sprint(c.warm) + " invokes)",
			Value: ms(conn.median()), Other: ms(floor.median()), Ratio: ratio(rs.median()),
			Spread: "per-round ratio " + rs.spread("%.2f"), Target: "reported"}
		if q.cap > 0 {
			rw.Target, rw.Met = fmt.Sprintf("≤ %.1fx floor", q.cap), met(rs.median() <= q.cap)
		}
		if q.name == "median" {
			rw.Spread += fmt.Sprintf("; all %d invokes: connector %s ms, floor %s ms", len(all[0]), all[0].spread("%.2f"), all[1].spread("%.2f"))
		}
		t.add(rw)
	}
	for i, f := range fns {
		t.add(row{Section: "Memory", Figure: fmt.Sprintf("%s: resident after %d invokes (VmRSS / VmHWM)", label(f.name), c.warm+1),
			Value: mb(mems[i].RSS) + " / " + mb(mems[i].Peak), Target: "reported"})
	}
	t.add(row{Section: "Logins", Figure: fmt.Sprintf("logins of one execution environment over %d invokes (the most of %d environments)", c.warm+1, c.warmRounds),
		Value: fmt.Sprint(maxLogins), Target: "1", Met: met(maxLogins == 1)})
	return nil
}

// warmRound is one round of warmGets: the warm invoke times per side, the
// most logins one connector environment made, and each bootstrap's memory
// after the round.
func warmRound(ctx context.Context, c config, w *world, fns [2]function) ([2]sample, int, [2]memory, error) {
	var took [2]sample
	var mem [2]memory
	var emulators [2]*rie.Emulator
	var logins [2]int
	for i, f := range fns {
		e, err := f.start(ctx)
		if err != nil {
			return took, 0, mem, err
		}
		defer e.Close()
		before := w.org.Logins()
		if _, _, err := invoke(ctx, e, w.event, "200"); err != nil {
			return took, 0, mem, fmt.Errorf("%s: %w", f.name, err)
		}
		logins[i] = w.org.Logins() - before
		emulators[i] = e
	}
	before := w.org.Logins()
	var d [2][]time.Duration
	for n := range c.warm {
		for k := range 2 {
			i := (n + k) % 2
			_, took, err := invoke(ctx, emulators[i], w.event, "200")
			if err != nil {
				return [2]sample{}, 0, mem, fmt.Errorf("%s: warm invoke %d: %w", fns[i].name, n+1, err)
			}
			d[i] = append(d[i], took)
		}
	}
	// A login during the alternating invokes is a second one of an
	// environment; the org cannot tell whose, so the connector is charged.
	logins[0] += w.org.Logins() - before
	for i, f := range fns {
		took[i] = durations(d[i])
		m, err := bootstrapMemory(f.bootstrap)
		if err != nil {
			return took, 0, mem, err
		}
		mem[i] = m
	}
	return took, logins[0], mem, nil
}

func label(name string) string {
	if name == "floor" {
		return "floor"
	}
	return "connector " + name
}
