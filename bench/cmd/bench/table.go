package main

import (
	"fmt"
	"io"
	"strings"
)

// row is one figure of the table.
type row struct {
	Figure  string
	Value   string // the connector's figure
	Other   string // the floor's or the peer's, when compared
	Ratio   string // connector / other, of medians
	Spread  string // min–max and IQR, or other detail
	Target  string
	Met     *bool // nil: reported, no target
	Section string
}

// table collects the rows in the order they were measured.
type table struct {
	env  []string
	rows []row
}

func (t *table) add(r row) { t.rows = append(t.rows, r) }

func (t *table) note(format string, args ...any) { t.env = append(t.env, fmt.Sprintf(format, args...)) }

func (t *table) failed() bool {
	for _, r := range t.rows {
		if r.Met != nil && !*r.Met {
			return true
		}
	}
	return false
}

func met(ok bool) *bool { return &ok }

func (t *table) print(w io.Writer) {
	fmt.Fprintln(w)
	for _, e := range t.env {
		fmt.Fprintf(w, "- %s\n", e)
	}
	section := ""
	for _, r := range t.rows {
		if r.Section != section {
			section = r.Section
			fmt.Fprintf(w, "\n### %s\n\n", section)
			fmt.Fprintln(w, "| figure | connector | floor / peer | ratio | spread | target | met |")
			fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- | --- |")
		}
		verdict := ""
		if r.Met != nil {
			verdict = "yes"
			if !*r.Met {
				verdict = "**no**"
			}
		}
		cells := []string{r.Figure, r.Value, r.Other, r.Ratio, r.Spread, r.Target, verdict}
		for i, c := range cells {
			cells[i] = strings.ReplaceAll(c, "|", "\\|")
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
	var missed []string
	targets := 0
	for _, r := range t.rows {
		if r.Met == nil {
			continue
		}
		targets++
		if !*r.Met {
			missed = append(missed, r.Figure)
		}
	}
	fmt.Fprintf(w, "\nTargets: %d of %d met.", targets-len(missed), targets)
	if len(missed) > 0 {
		fmt.Fprintf(w, " Not met: %s.", strings.Join(missed, "; "))
	}
	fmt.Fprintln(w)
}

func ms(v float64) string { return fmt.Sprintf("%.2f ms", v) }
func mb(v int64) string   { return fmt.Sprintf("%.2f MB", float64(v)/(1<<20)) }
func ratio(v float64) string {
	return fmt.Sprintf("%.2fx", v)
}
