package soql

import (
	"strings"
)

// subPlan is a child relationship subquery such as (SELECT Name FROM Contacts).
// Its children are read and indexed by parent id once, on first use, so a
// query over many parents reads the child object once.
type subPlan struct {
	name  string // canonical relationship name, the output field name
	field string // the child's reference field
	plan  *plan
	index map[string][]map[string]any
}

const childHint = " in FROM part of query call. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names."

func compileSub(parent *filterEnv, stmt *Query) (*subPlan, *Error) {
	rel, ok := childRelationship(parent.src, parent.obj, stmt.Object)
	if !ok {
		return nil, posError(CodeInvalidType, stmt.text, stmt.objectTok.pos,
			"Didn't understand relationship '"+stmt.Object+"'"+childHint)
	}
	obj, _ := parent.src.Object(rel.Object)
	env := &filterEnv{scope: &scope{src: parent.src, q: stmt.text, obj: obj, alias: stmt.Alias}, now: parent.now, all: parent.all}
	p, err := compilePlan(env, stmt, true)
	if err != nil {
		return nil, err
	}
	return &subPlan{name: rel.Name, field: rel.Field, plan: p}, nil
}

// childRelationship finds a child relationship of parent by name, from the
// Source when it lists them, otherwise from the plural of a child object that
// has a reference field to parent.
func childRelationship(src Source, parent ObjectInfo, name string) (ChildRelationship, bool) {
	if c, ok := src.(Children); ok {
		for _, r := range c.ChildRelationships(parent.Name) {
			if strings.EqualFold(r.Name, name) {
				return r, true
			}
		}
		return ChildRelationship{}, false
	}
	base := name
	custom := false
	if strings.HasSuffix(strings.ToLower(base), "__r") {
		base, custom = base[:len(base)-3], true
	}
	var candidates []string
	lower := strings.ToLower(base)
	switch {
	case strings.HasSuffix(lower, "ies"):
		candidates = append(candidates, base[:len(base)-3]+"y")
	case strings.HasSuffix(lower, "es"):
		candidates = append(candidates, base[:len(base)-1], base[:len(base)-2])
	case strings.HasSuffix(lower, "s"):
		candidates = append(candidates, base[:len(base)-1])
	}
	candidates = append(candidates, base)
	for _, cand := range candidates {
		if custom {
			cand += "__c"
		}
		child, ok := src.Object(cand)
		if !ok {
			continue
		}
		var found *FieldInfo
		for _, f := range child.Fields {
			if f.Type != TypeReference || !strings.EqualFold(f.ReferenceTo, parent.Name) {
				continue
			}
			// Prefer the field named after the parent (AccountId on Contact).
			if found == nil || strings.EqualFold(f.RelationshipName, parent.Name) {
				found = &f
			}
		}
		if found != nil {
			return ChildRelationship{Name: canonicalPlural(name, child.Name), Object: child.Name, Field: found.Name}, true
		}
	}
	return ChildRelationship{}, false
}

// canonicalPlural spells a guessed relationship name with the child object's
// capitalisation (contacts -> Contacts).
func canonicalPlural(written, child string) string {
	stem := strings.TrimSuffix(child, "__c")
	if len(written) >= len(stem) && strings.EqualFold(written[:len(stem)], stem) {
		return stem + written[len(stem):]
	}
	return strings.ToUpper(written[:1]) + written[1:]
}

// children lists one parent's children as a nested result, or nil (not an
// empty result) when it has none, as Salesforce does.
func (s *subPlan) children(parent map[string]any) any {
	if s.index == nil {
		p := s.plan
		rows := p.filter(liveRows(p.env.src, p.typ, p.env.all), false)
		if len(p.order) > 0 {
			rows = sortRows(rows, p.order)
		}
		s.index = map[string][]map[string]any{}
		for _, row := range rows {
			if id, ok := row[s.field].(string); ok && id != "" {
				s.index[id15(id)] = append(s.index[id15(id)], row)
			}
		}
	}
	id, _ := parent["Id"].(string)
	kids := s.index[id15(id)]
	from, to := s.plan.window(len(kids))
	if from >= to {
		return nil
	}
	recs := make([]*Record, 0, to-from)
	for _, row := range kids[from:to] {
		recs = append(recs, s.plan.build(s.plan.typ, row, s.plan.nodes))
	}
	return &Result{TotalSize: len(recs), Records: recs}
}
