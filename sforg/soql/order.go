package soql

import (
	"slices"
	"strings"
)

// orderKey is one compiled ORDER BY item.
type orderKey struct {
	get        func(map[string]any) any
	kind       kind
	desc       bool
	nullsFirst bool
}

// newOrderKey applies Salesforce's defaults: ASC puts nulls first, DESC last.
func newOrderKey(k kind, o Order, get func(map[string]any) any) orderKey {
	nullsFirst := !o.Desc
	switch o.Nulls {
	case "FIRST":
		nullsFirst = true
	case "LAST":
		nullsFirst = false
	}
	return orderKey{get: get, kind: k, desc: o.Desc, nullsFirst: nullsFirst}
}

// sortKey is a value reduced once to what comparisons need: text lower-cased
// (Salesforce sorts text case-insensitively), numbers, checkboxes and datetimes
// as float64.
type sortKey struct {
	null bool
	s    string
	n    float64
}

func numericKind(k kind) bool { return k == kNum || k == kBool || k == kDateTime }

func keyOf(k kind, v any) sortKey {
	if isNull(v) {
		if k == kBool {
			return sortKey{}
		}
		return sortKey{null: true}
	}
	switch k {
	case kNum:
		if n, ok := toFloat(v); ok {
			return sortKey{n: n}
		}
	case kBool:
		if b, _ := v.(bool); b {
			return sortKey{n: 1}
		}
		return sortKey{}
	case kDateTime:
		if ms, ok := storedMillis(v); ok {
			return sortKey{n: float64(ms)}
		}
	case kText:
		if s, ok := v.(string); ok {
			return sortKey{s: strings.ToLower(s)}
		}
	default:
		if s, ok := v.(string); ok {
			return sortKey{s: s}
		}
	}
	return sortKey{null: true}
}

// compareKeys orders two keys of one ORDER BY item, nulls placed as asked.
func compareKeys(o orderKey, a, b sortKey) int {
	if a.null || b.null {
		switch {
		case a.null && b.null:
			return 0
		case a.null == o.nullsFirst:
			return -1
		}
		return 1
	}
	var c int
	if numericKind(o.kind) {
		c = cmpNum(a.n, b.n)
	} else {
		c = strings.Compare(a.s, b.s)
	}
	if o.desc {
		c = -c
	}
	return c
}

// sortRows returns the rows in ORDER BY order, ties kept in insertion order.
// Each value is read and reduced once, not once per comparison.
func sortRows(rows []map[string]any, order []orderKey) []map[string]any {
	keys := make([][]sortKey, len(order))
	for k, o := range order {
		keys[k] = make([]sortKey, len(rows))
		for i, row := range rows {
			keys[k][i] = keyOf(o.kind, o.get(row))
		}
	}
	idx := make([]int, len(rows))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		for k, o := range order {
			if c := compareKeys(o, keys[k][a], keys[k][b]); c != 0 {
				return c
			}
		}
		return 0
	})
	out := make([]map[string]any, len(rows))
	for i, j := range idx {
		out[i] = rows[j]
	}
	return out
}
