package stack

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sfconnect/connector/local/rie"
)

// Sample reads events/<file> and replaces the values at the given paths, so a
// sample that names a record of someone's org (0015g0000004C93AAE) can name a
// record of the local one. A path is dotted object keys with [i] for array
// elements: "SObjectId", "detail.SObjectId",
// "salesforcePayload.requests[0].contextId". Every path must already exist in
// the sample: a rewrite never adds a field the sample did not have.
func Sample(file string, set map[string]any) ([]byte, error) {
	root, err := rie.ModuleRoot()
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(filepath.Join(root, "events", file))
	if err != nil {
		return nil, err
	}
	if len(set) == 0 {
		return raw, nil
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("events/%s: %w", file, err)
	}
	for path, v := range set {
		if err := Replace(doc, path, v); err != nil {
			return nil, fmt.Errorf("events/%s: %w", file, err)
		}
	}
	return json.Marshal(doc)
}

// Replace sets the existing value at path in a decoded JSON document (see
// Sample for the path syntax).
func Replace(doc any, path string, v any) error {
	steps, err := parsePath(path)
	if err != nil {
		return err
	}
	cur := doc
	for i, s := range steps {
		last := i == len(steps)-1
		switch node := cur.(type) {
		case map[string]any:
			next, ok := node[s.key]
			if s.key == "" || !ok {
				return fmt.Errorf("%s: no field %q", path, s.key)
			}
			if last {
				node[s.key] = v
				return nil
			}
			cur = next
		case []any:
			if s.key != "" || s.index < 0 || s.index >= len(node) {
				return fmt.Errorf("%s: no element %d", path, s.index)
			}
			if last {
				node[s.index] = v
				return nil
			}
			cur = node[s.index]
		default:
			return fmt.Errorf("%s: %T has no fields", path, cur)
		}
	}
	return fmt.Errorf("%s: empty path", path)
}

type pathStep struct {
	key   string // an object key, or "" for an index
	index int
}

func parsePath(path string) ([]pathStep, error) {
	var steps []pathStep
	for part := range strings.SplitSeq(path, ".") {
		key, rest, _ := strings.Cut(part, "[")
		if key == "" && rest == "" {
			return nil, fmt.Errorf("bad path %q", path)
		}
		if key != "" {
			steps = append(steps, pathStep{key: key})
		}
		for rest != "" {
			n, after, ok := strings.Cut(rest, "]")
			i, err := strconv.Atoi(n)
			if !ok || err != nil {
				return nil, fmt.Errorf("bad index in path %q", path)
			}
			steps = append(steps, pathStep{index: i})
			rest = strings.TrimPrefix(after, "[")
			if after != "" && !strings.HasPrefix(after, "[") {
				return nil, fmt.Errorf("bad path %q", path)
			}
		}
	}
	return steps, nil
}
