package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// sample is a set of measurements of one thing, in one unit.
type sample []float64

func durations(ds []time.Duration) sample {
	s := make(sample, len(ds))
	for i, d := range ds {
		s[i] = float64(d) / float64(time.Millisecond)
	}
	return s
}

// quantile is the q-quantile by linear interpolation between order statistics.
func (s sample) quantile(q float64) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	c := slices.Clone(s)
	slices.Sort(c)
	pos := q * float64(len(c)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	return c[lo] + (c[hi]-c[lo])*(pos-float64(lo))
}

func (s sample) median() float64 { return s.quantile(0.5) }
func (s sample) min() float64    { return s.quantile(0) }
func (s sample) max() float64    { return s.quantile(1) }

// spread is "min–max (IQR q1–q3)".
func (s sample) spread(format string) string {
	return fmt.Sprintf(format+"–"+format+" (IQR "+format+"–"+format+")", s.min(), s.max(), s.quantile(0.25), s.quantile(0.75))
}

// ratios divides a by b element-wise: paired measurements of one round.
func ratios(a, b sample) sample {
	n := min(len(a), len(b))
	r := make(sample, n)
	for i := range n {
		r[i] = a[i] / b[i]
	}
	return r
}

func splitLines(s string) []string { return strings.Split(s, "\n") }

func cut(s, sep string) (string, string, bool) {
	k, v, ok := strings.Cut(s, sep)
	return strings.TrimSpace(k), strings.TrimSpace(v), ok
}
