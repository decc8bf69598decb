package sforg

// sObject Tree, POST /services/data/vNN.N/composite/tree/{Name}: creates trees
// of parent and child records in one transaction. From Salesforce's REST
// reference ("sObject Tree", "sObject Tree Request Body", "sObject Tree
// Response Body"):
//
//	{"records":[{"attributes":{"type":"Account","referenceId":"ref1"},"Name":"Acme",
//	    "Contacts":{"records":[{"attributes":{"type":"Contact","referenceId":"ref2"},"LastName":"Doe"}]}}]}
//	-> 201 {"hasErrors":false,"results":[{"referenceId":"ref1","id":"001..."},{"referenceId":"ref2","id":"003..."}]}
//	-> 400 {"hasErrors":true,"results":[{"referenceId":"ref2","errors":[{"statusCode":...,"message":...,"fields":[...]}]}]}
//
// Root records are of the type in the URI; a child list sits under the name
// of a child relationship of its parent (Contacts under an Account) and its
// records get the parent's new id in the relationship's lookup field. At most
// 200 records in all, of at most 5 types, at most 5 levels deep. Records are
// created level by level (every root record, then every second-level record,
// ...), and the results list them in that order; within a level, in request
// order, children of one parent by relationship name. Any error fails the
// whole request and nothing is created: the results then hold only the
// records that failed (every one of a level whose insert failed, or every
// record whose referenceId is missing, duplicated or whose type is wrong).
// The whole request is one API call.
//
// [UNCONFIRMED]: the first version served (38.0), the 201 and 400 statuses,
// the codes and wording for a limit (a REST error array, LIMIT_EXCEEDED), a
// missing or duplicate referenceId (INVALID_INPUT) and a record of the wrong
// type (INVALID_TYPE), and the order of children of one parent under several
// relationships.

import (
	"net/http"
	"sort"
	"strings"
)

// Limits and version of sObject Tree.
const (
	treeVersion    = 38.0
	maxTreeRecords = 200
	maxTreeTypes   = 5
	maxTreeDepth   = 5
)

// treeNode is one record of a tree request.
type treeNode struct {
	ref         string
	object      *Object
	fields      map[string]any
	parent      *treeNode
	parentField string // the lookup field pointing at parent
	depth       int    // 1 for a root record
	id          string // once created
}

// treeResult is one result of a tree request.
type treeResult struct {
	ReferenceID string            `json:"referenceId"`
	ID          string            `json:"id,omitempty"`
	Errors      []collectionError `json:"errors,omitempty"`
}

type treeResponse struct {
	HasErrors bool         `json:"hasErrors"`
	Results   []treeResult `json:"results"`
}

func treeError(ref, code, message string) treeResult {
	return treeResult{ReferenceID: ref, Errors: []collectionError{saveError(code, message, nil)}}
}

// sobjectTree answers POST /composite/tree/{Name}.
func (s *Server) sobjectTree(w http.ResponseWriter, r *http.Request, c *call) {
	root, ok := s.objectSince(w, r, c, treeVersion)
	if !ok {
		return
	}
	var body struct {
		Records []map[string]any `json:"records"`
	}
	if f := decodeJSON(r, &body); f != nil {
		writeFailure(w, f)
		return
	}
	if body.Records == nil {
		writeFailure(w, missingArgument("records"))
		return
	}
	t := &treeReader{s: s}
	for _, rec := range body.Records {
		t.read(rec, root, nil, "", 1)
	}
	if f := t.limits(); f != nil {
		writeFailure(w, f)
		return
	}
	if len(t.problems) > 0 {
		writeJSON(w, http.StatusBadRequest, treeResponse{HasErrors: true, Results: t.problems})
		return
	}
	nodes := t.nodes
	sort.SliceStable(nodes, func(i, j int) bool { return nodes[i].depth < nodes[j].depth })
	var failures []treeResult
	s.store.batch(func(tx *batch) bool {
		for i, n := range nodes {
			fields := n.fields
			if n.parent != nil {
				fields[n.parentField] = n.parent.id
			}
			id, err := tx.insert(n.object.Name, fields)
			if err != nil {
				failures = append(failures, treeResult{ReferenceID: n.ref, Errors: failed("", err).Errors})
			}
			n.id = id
			if last := i == len(nodes)-1 || nodes[i+1].depth != n.depth; last && len(failures) > 0 {
				return false
			}
		}
		return true
	})
	if len(failures) > 0 {
		writeJSON(w, http.StatusBadRequest, treeResponse{HasErrors: true, Results: failures})
		return
	}
	results := make([]treeResult, len(nodes))
	for i, n := range nodes {
		results[i] = treeResult{ReferenceID: n.ref, ID: n.id}
	}
	writeJSON(w, http.StatusCreated, treeResponse{Results: results})
}

// treeReader turns a tree request into nodes, collecting what is wrong.
type treeReader struct {
	s        *Server
	nodes    []*treeNode
	problems []treeResult
	refs     map[string][]*treeNode
	tooDeep  bool
}

// read adds a record and its children; want is the type its place demands.
func (t *treeReader) read(rec map[string]any, want *Object, parent *treeNode, parentField string, depth int) {
	if depth > maxTreeDepth {
		t.tooDeep = true
		return
	}
	attrs, _ := rec["attributes"].(map[string]any)
	typ, _ := attrs["type"].(string)
	ref, _ := attrs["referenceId"].(string)
	n := &treeNode{ref: ref, parent: parent, parentField: parentField, depth: depth, fields: map[string]any{}}
	t.nodes = append(t.nodes, n)
	if t.refs == nil {
		t.refs = map[string][]*treeNode{}
	}
	switch o, ok := t.s.store.Object(typ); {
	case ref == "":
		t.problems = append(t.problems, treeError(ref, "INVALID_INPUT", "Include a reference ID for each record in the request"))
	case typ == "":
		t.problems = append(t.problems, treeError(ref, "INVALID_TYPE", "Must send a concrete entity type."))
	case !ok || o != want:
		t.problems = append(t.problems, treeError(ref, "INVALID_TYPE", "The record "+ref+" is of type "+typ+", where the request needs "+want.Name))
	default:
		n.object = o
		if prev := t.refs[ref]; len(prev) == 1 {
			t.problems = append(t.problems, treeError(ref, "INVALID_INPUT", "Duplicate ReferenceId provided in the request"))
		}
		if len(t.refs[ref]) > 0 {
			t.problems = append(t.problems, treeError(ref, "INVALID_INPUT", "Duplicate ReferenceId provided in the request"))
		}
		t.refs[ref] = append(t.refs[ref], n)
	}
	keys := make([]string, 0, len(rec))
	for k := range rec {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "attributes" {
			continue
		}
		if n.object != nil {
			if child, field, ok := t.childList(n.object, k, rec[k]); ok {
				for _, c := range child.records {
					t.read(c, child.object, n, field, depth+1)
				}
				continue
			}
		}
		n.fields[k] = rec[k]
	}
}

// childRecords is the records of one child relationship of a tree record.
type childRecords struct {
	object  *Object
	records []map[string]any
}

// childList reads v as the child records under relationship name of parent:
// {"records":[...]} under the name of a child relationship.
func (t *treeReader) childList(parent *Object, name string, v any) (childRecords, string, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return childRecords{}, "", false
	}
	list, ok := m["records"].([]any)
	if !ok {
		return childRecords{}, "", false
	}
	for _, o := range t.s.store.Objects() {
		for _, f := range o.Fields {
			if f.ReferenceTo == parent.Name && f.ChildRelationship != "" && strings.EqualFold(f.ChildRelationship, name) {
				out := childRecords{object: o}
				for _, e := range list {
					rec, _ := e.(map[string]any)
					out.records = append(out.records, rec)
				}
				return out, f.Name, true
			}
		}
	}
	return childRecords{}, "", false
}

// limits checks the size of the request.
func (t *treeReader) limits() *Failure {
	types := map[*Object]bool{}
	for _, n := range t.nodes {
		if n.object != nil {
			types[n.object] = true
		}
	}
	switch {
	case len(t.nodes) > maxTreeRecords:
		return fail(http.StatusBadRequest, "LIMIT_EXCEEDED", "An sObject Tree request can create at most %d records", maxTreeRecords)
	case len(types) > maxTreeTypes:
		return fail(http.StatusBadRequest, "LIMIT_EXCEEDED", "An sObject Tree request can create records of at most %d types", maxTreeTypes)
	case t.tooDeep:
		return fail(http.StatusBadRequest, "LIMIT_EXCEEDED", "An sObject Tree can be at most %d levels deep", maxTreeDepth)
	}
	return nil
}
