package connector

// APPROVAL_LIST's pending form: with "pending": true it lists the work items
// awaiting approval instead of the process definitions. Salesforce has no
// REST resource for them; they are ProcessInstanceWorkitem rows, read with
// SOQL (docs/salesforce-protocol.md §5), joined to their ProcessInstance (the
// target record, the process) through relationship fields. The answer pages
// like QUERY's, through the same pager (query.go), each record rewritten into
// a flat item before it is measured against the output budget.

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"

	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/salesforce"
	"github.com/sfconnect/connector/shared/sfid"
)

// pendingSelect reads what an item carries. TargetObject is polymorphic (any
// approvable record): SOQL offers its Type and Name through the Name object.
// ElapsedTimeInMinutes is Salesforce's own count of the time since the work item
// was created, so the wait does not depend on this function's clock. Oldest
// first, the Id breaking ties, so the order is stable across pages.
const pendingSelect = "SELECT Id, ProcessInstanceId, ProcessInstance.TargetObjectId, " +
	"ProcessInstance.TargetObject.Type, ProcessInstance.TargetObject.Name, " +
	"ProcessInstance.ProcessDefinition.Name, ProcessInstance.ProcessDefinition.DeveloperName, " +
	"ProcessInstance.SubmittedById, ActorId, OriginalActorId, CreatedDate, ElapsedTimeInMinutes " +
	"FROM ProcessInstanceWorkitem"

const pendingOrder = " ORDER BY CreatedDate, Id"

// approvalList is the APPROVAL_LIST action. Without "pending": true it is
// today's call, whatever else the input holds: a Task that passes its whole
// state keeps the answer it had.
func (c *Connector) approvalList(ctx context.Context, in *input) (*salesforce.Response, *Paging, error) {
	pending, err := in.pending()
	if err != nil {
		return nil, nil, err
	}
	if !pending {
		resp, err := listApprovals(ctx, c.client, in)
		return resp, nil, err
	}
	// The filters are checked even beside a cursor, which ignores them, so
	// that a bad filter is refused the same way on every page.
	soql, err := in.pendingQuery()
	if err != nil {
		return nil, nil, err
	}
	args, err := in.pagedArgs(func() (string, error) { return soql, nil })
	if err != nil {
		return nil, nil, err
	}
	args.action = "APPROVAL_LIST"
	args.mapRecord = pendingItemOf
	return c.pages(ctx, args)
}

// pending reads the switch: absent, null or false is the definitions; true or
// the string "true" (what a templated workflow may send) the work items.
func (in *input) pending() (bool, error) {
	if isAbsent(in.Pending) {
		return false, nil
	}
	var b bool
	if json.Unmarshal(in.Pending, &b) == nil {
		return b, nil
	}
	var s string
	if json.Unmarshal(in.Pending, &s) == nil {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, faults.New(faults.InvalidInput, "pending must be true or false")
}

// pendingQuery builds the SOQL of the pending form from its filters. Each is
// validated first (an API name, or an id with a valid checksum), so a value
// can only ever be a literal of letters, digits and underscores: nothing in
// the input can change the statement.
func (in *input) pendingQuery() (string, error) {
	var where []string
	if !isAbsent(in.SObjectName) {
		name, err := in.objectName()
		if err != nil {
			return "", err
		}
		where = append(where, "ProcessInstance.TargetObject.Type = '"+name+"'")
	}
	if !isAbsent(in.SObjectID) {
		id, err := in.objectID()
		if err != nil {
			return "", err
		}
		where = append(where, "ProcessInstance.TargetObjectId = '"+id+"'")
	}
	if !isAbsent(in.ActorID) {
		id, err := text(in.ActorID, "actorId")
		if err != nil {
			return "", err
		}
		if !sfid.Valid(id) {
			return "", faults.New(faults.InvalidInput, "actorId %s is not a 15- or 18-character Salesforce id of a user or queue", quote(id))
		}
		where = append(where, "ActorId = '"+id+"'")
	}
	q := pendingSelect
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	return q + pendingOrder, nil
}

// pendingItem is one work item as APPROVAL_LIST returns it. Pass workItemId as
// APPROVAL_APPROVE's or APPROVAL_REJECT's contextId. A field Salesforce left
// empty, or that the connected user cannot see, is null.
type pendingItem struct {
	WorkItemID           string          `json:"workItemId"`
	ProcessInstanceID    string          `json:"processInstanceId"`
	TargetID             string          `json:"targetId"`
	TargetType           *string         `json:"targetType"`
	TargetName           *string         `json:"targetName"`
	ProcessName          *string         `json:"processName"`
	ProcessDeveloperName *string         `json:"processDeveloperName"`
	ActorID              string          `json:"actorId"`
	ActorType            *string         `json:"actorType"`
	OriginalActorID      *string         `json:"originalActorId"`
	SubmittedByID        *string         `json:"submittedById"`
	CreatedDate          string          `json:"createdDate"`
	WaitingMinutes       json.RawMessage `json:"waitingMinutes"`
}

// wireWorkitem is a record of pendingSelect as Salesforce sends it.
type wireWorkitem struct {
	Attributes struct {
		Type string `json:"type"`
	} `json:"attributes"`
	ID                string `json:"Id"`
	ProcessInstanceID string `json:"ProcessInstanceId"`
	ProcessInstance   *struct {
		TargetObjectID string `json:"TargetObjectId"`
		TargetObject   *struct {
			Type *string `json:"Type"`
			Name *string `json:"Name"`
		} `json:"TargetObject"`
		ProcessDefinition *struct {
			Name          *string `json:"Name"`
			DeveloperName *string `json:"DeveloperName"`
		} `json:"ProcessDefinition"`
		SubmittedByID *string `json:"SubmittedById"`
	} `json:"ProcessInstance"`
	ActorID              string          `json:"ActorId"`
	OriginalActorID      *string         `json:"OriginalActorId"`
	CreatedDate          string          `json:"CreatedDate"`
	ElapsedTimeInMinutes json.RawMessage `json:"ElapsedTimeInMinutes"`
}

// actorTypes names an actor by its id's key prefix: ActorId refers to a User
// or a Group, and the Group an approval request is assigned to is a queue.
// These are the names SOQL's Actor.Type gives them.
var actorTypes = map[string]string{"005": "User", "00G": "Queue"}

// pendingItemOf rewrites a ProcessInstanceWorkitem record into a pendingItem.
// A record of another type means the cursor came from another query.
func pendingItemOf(raw json.RawMessage) (json.RawMessage, error) {
	var w wireWorkitem
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, faults.New(faults.UnknownError, "APPROVAL_LIST: Salesforce's answer holds a record that is not a JSON object")
	}
	if w.Attributes.Type != "ProcessInstanceWorkitem" {
		return nil, faults.New(faults.InvalidInput,
			"cursor does not continue a list of pending approvals: its records are %s, not ProcessInstanceWorkitem", quote(w.Attributes.Type))
	}
	item := pendingItem{
		WorkItemID: w.ID, ProcessInstanceID: w.ProcessInstanceID, ActorID: w.ActorID,
		OriginalActorID: w.OriginalActorID, CreatedDate: w.CreatedDate, WaitingMinutes: number(w.ElapsedTimeInMinutes),
	}
	if t, ok := actorTypes[prefix(w.ActorID)]; ok {
		item.ActorType = &t
	}
	if pi := w.ProcessInstance; pi != nil {
		item.TargetID, item.SubmittedByID = pi.TargetObjectID, pi.SubmittedByID
		if pi.TargetObject != nil {
			item.TargetType, item.TargetName = pi.TargetObject.Type, pi.TargetObject.Name
		}
		if pi.ProcessDefinition != nil {
			item.ProcessName, item.ProcessDeveloperName = pi.ProcessDefinition.Name, pi.ProcessDefinition.DeveloperName
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // as encode writes the output: a name keeps its < > &
	if err := enc.Encode(item); err != nil {
		return nil, faults.Wrap(faults.UnknownError, err, "cannot encode a pending approval")
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// number keeps a JSON number as Salesforce wrote it; anything else is null.
func number(raw json.RawMessage) json.RawMessage {
	var f float64
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] != '"' && json.Unmarshal(t, &f) == nil {
		return t
	}
	return json.RawMessage("null")
}

// prefix is an id's key prefix, "" for anything shorter.
func prefix(id string) string {
	if len(id) < 3 {
		return ""
	}
	return id[:3]
}
