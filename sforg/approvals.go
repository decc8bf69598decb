package sforg

// Approval processes and the REST resource /services/data/vNN.N/process/approvals/
// (docs/salesforce-protocol.md §5).
//
// State lives in the store as Salesforce keeps it, so SOQL sees it:
//   - ProcessDefinition (04a): one row per approval process (Type Approval, State Active|Inactive).
//   - ProcessInstance (04g): one per submission; Status Pending -> Approved | Rejected.
//   - ProcessInstanceStep (04h): the history; StepStatus Started on submit, then Approved | Rejected,
//     each with its Comments.
//   - ProcessInstanceWorkitem (04i): the pending approval request of each approver; deleted
//     (IsDeleted true, so /query no longer sees it, /queryAll does) when the instance is decided.
//
// Record locking: Salesforce locks a record while it is pending, but administrators
// (and the integration user is one) may still edit it, so updates stay allowed here.
//
// Only single-step processes are modelled: the first approve or reject decides the
// instance (the fixture process Account.JSforceApprovalProcess1 has two steps with
// "FirstResponse" approvers; a second step is not emulated).

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/sfconnect/connector/shared/sfid"
)

// ApprovalProcess defines an approval process of the org.
type ApprovalProcess struct {
	// Name is the process name (its label), e.g. "Account Approval Process";
	// GET /process/approvals/ reports it as "name" (D-appr example). Default:
	// DeveloperName.
	Name string
	// DeveloperName is the unique name that processDefinitionNameOrId refers to,
	// e.g. "Account_Approval".
	DeveloperName string
	// Object is the sObject the process applies to, e.g. "Account".
	Object string
	// Description is reported as "description" (null when empty).
	Description string
	// EntryCriteria decides which records may enter; it gets a copy of the
	// record's fields keyed by canonical API name. Nil admits every record.
	EntryCriteria func(fields map[string]any) bool
	// Approvers are the user ids a submission is assigned to, one work item each.
	// Default: the integration user. A submit's nextApproverIds replace them.
	Approvers []string
	// Inactive processes are listed but never chosen for a submission.
	Inactive bool
}

// DefaultApprovalProcess is the process every new org has, modelled on the
// jsforce test package's Account.JSforceApprovalProcess1: every Account may
// enter, the integration user approves.
var DefaultApprovalProcess = ApprovalProcess{
	Name:          "Account Approval Process",
	DeveloperName: "Account_Approval",
	Object:        "Account",
}

// approvalDef is a defined process and its ProcessDefinition row.
type approvalDef struct {
	p  ApprovalProcess
	id string // 18-char ProcessDefinition id
}

// approvalBook holds the org's approval processes and serialises every approval
// action, so concurrent submits of one record give exactly one Pending instance.
type approvalBook struct {
	mu    sync.Mutex
	store *Store
	defs  []*approvalDef
}

func (s *Server) approvals() *approvalBook { return s.book }

// approvalRoutes seeds the default process and serves /process/approvals/.
func (s *Server) approvalRoutes() {
	s.seedApprovals()
	s.handle("GET /services/data/{version}/process/approvals", s.api("approvals", s.listApprovals))
	s.handle("POST /services/data/{version}/process/approvals", s.api("approvals", s.processApprovals))
}

// seedApprovals defines DefaultApprovalProcess once, and puts back the
// ProcessDefinition rows of every defined process after the store was reset.
func (s *Server) seedApprovals() {
	b := s.approvals()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.defs) == 0 {
		b.defineLocked(DefaultApprovalProcess) //nolint:errcheck // without the standard objects there is nothing to seed
		return
	}
	b.syncLocked()
}

// DefineApprovalProcess adds an active (unless p.Inactive) approval process and
// its ProcessDefinition row; it returns the row's 18-char id. Processes survive
// Reset.
func (s *Server) DefineApprovalProcess(p ApprovalProcess) (string, error) {
	b := s.approvals()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.syncLocked()
	return b.defineLocked(p)
}

func (b *approvalBook) defineLocked(p ApprovalProcess) (string, error) {
	o, ok := b.store.Object(p.Object)
	if !ok {
		return "", fmt.Errorf("approval process %s: no object %q", p.DeveloperName, p.Object)
	}
	p.Object = o.Name
	if !sfid.ValidName(p.DeveloperName) || strings.Contains(p.DeveloperName, "__") {
		return "", fmt.Errorf("approval process: invalid developer name %q", p.DeveloperName)
	}
	if p.Name == "" {
		p.Name = p.DeveloperName
	}
	for _, d := range b.defs {
		if strings.EqualFold(d.p.DeveloperName, p.DeveloperName) {
			return "", fmt.Errorf("approval process %s already exists", p.DeveloperName)
		}
	}
	approvers := make([]string, 0, len(p.Approvers))
	for _, id := range p.Approvers {
		u := b.userLocked(id)
		if u == "" {
			return "", fmt.Errorf("approval process %s: approver %q is not a user", p.DeveloperName, id)
		}
		approvers = append(approvers, u)
	}
	p.Approvers = approvers
	d := &approvalDef{p: p}
	if err := b.insertDefinition(d); err != nil {
		return "", err
	}
	b.defs = append(b.defs, d)
	return d.id, nil
}

func (b *approvalBook) insertDefinition(d *approvalDef) error {
	var desc any
	if d.p.Description != "" {
		desc = d.p.Description
	}
	state := "Active"
	if d.p.Inactive {
		state = "Inactive"
	}
	id, err := b.store.InsertSystem("ProcessDefinition", map[string]any{
		"Name": d.p.Name, "DeveloperName": d.p.DeveloperName, "Type": "Approval",
		"TableEnumOrId": d.p.Object, "Description": desc, "State": state, "LockType": "Total",
	})
	if err != nil {
		return fmt.Errorf("approval process %s: %w", d.p.DeveloperName, err)
	}
	d.id = id
	return nil
}

// syncLocked re-inserts the ProcessDefinition rows a store reset dropped.
func (b *approvalBook) syncLocked() {
	for _, d := range b.defs {
		if _, f, err := b.store.Get("ProcessDefinition", d.id, []string{"DeveloperName"}); err == nil && f["DeveloperName"] == d.p.DeveloperName {
			continue
		}
		b.insertDefinition(d) //nolint:errcheck // kept with its old id; submits will not find it
	}
}

// userLocked returns the 18-char id of a live User, or "".
func (b *approvalBook) userLocked(id string) string {
	if _, _, err := b.store.Get("User", id, []string{"Id"}); err != nil {
		return ""
	}
	return sfid.To18(id)
}

// approvalItem is one process definition in the GET answer.
type approvalItem struct {
	Description *string `json:"description"`
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	Object      string  `json:"object"`
	SortOrder   int     `json:"sortOrder"`
}

// listApprovals answers GET /process/approvals/: the process definitions keyed
// by object. The id is the 15-character form, as in Salesforce's example
// response (D-appr v188: "04aD00000008Py9") [UNCONFIRMED for current
// versions]; name is the process name, not its developer name (the example
// shows "Account Approval Process"). sortOrder counts from 1 per object in
// definition order. Inactive processes are listed too [UNCONFIRMED].
func (s *Server) listApprovals(w http.ResponseWriter, r *http.Request, c *call) {
	b := s.approvals()
	b.mu.Lock()
	b.syncLocked()
	out := map[string][]approvalItem{}
	for _, d := range b.defs {
		item := approvalItem{ID: d.id[:15], Name: d.p.Name, Object: d.p.Object, SortOrder: len(out[d.p.Object]) + 1}
		if d.p.Description != "" {
			desc := d.p.Description
			item.Description = &desc
		}
		out[d.p.Object] = append(out[d.p.Object], item)
	}
	b.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"approvals": out})
}

// processRequest is one element of {"requests":[...]} (D-appr).
type processRequest struct {
	ActionType                string          `json:"actionType"`
	ContextID                 string          `json:"contextId"`
	ContextActorID            string          `json:"contextActorId"`
	Comments                  *string         `json:"comments"`
	NextApproverIDs           []string        `json:"nextApproverIds"`
	ProcessDefinitionNameOrID string          `json:"processDefinitionNameOrId"`
	SkipEntryCriteria         json.RawMessage `json:"skipEntryCriteria"`
}

// processResult is Salesforce's ProcessResult; the key order is the documented one.
type processResult struct {
	ActorIDs       []string       `json:"actorIds"`
	EntityID       *string        `json:"entityId"`
	Errors         []processError `json:"errors"`
	InstanceID     *string        `json:"instanceId"`
	InstanceStatus *string        `json:"instanceStatus"`
	NewWorkitemIDs []string       `json:"newWorkitemIds"`
	Success        bool           `json:"success"`
}

// processError is the Error element of a failed ProcessResult (W-partner Error).
type processError struct {
	StatusCode string   `json:"statusCode"`
	Message    string   `json:"message"`
	Fields     []string `json:"fields"`
}

// Approval failures. Codes and messages of NO_APPLICABLE_PROCESS and
// ALREADY_IN_PROCESS follow §5; the code for an unknown record or work item is
// INVALID_CROSS_REFERENCE_KEY "invalid cross reference id", as Apex's
// Approval.process reports it [UNCONFIRMED for REST].
var (
	errNoProcess      = fail(http.StatusBadRequest, "NO_APPLICABLE_PROCESS", "No applicable approval process was found.")
	errInProcess      = fail(http.StatusBadRequest, "ALREADY_IN_PROCESS", "Cannot submit object already in process.")
	errCrossReference = fail(http.StatusBadRequest, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
)

// processApprovals answers POST /process/approvals/.
//
// Failure shape [UNCONFIRMED, §5]: Salesforce documents only that "requests
// that succeed are committed and the requests that don't succeed send back an
// error". A batch of one request that fails answers 400 with the usual error
// array (what third-party clients expect). A batch of several requests answers
// 200 with one ProcessResult per request; the successful ones are committed and
// a failed one has success false and errors [{statusCode, message, fields}].
func (s *Server) processApprovals(w http.ResponseWriter, r *http.Request, c *call) {
	var body struct {
		Requests []json.RawMessage `json:"requests"`
	}
	if f := decodeJSON(r, &body); f != nil {
		writeFailure(w, f)
		return
	}
	if len(body.Requests) == 0 {
		// [UNCONFIRMED] code and wording for a body without requests.
		writeFailure(w, fail(http.StatusBadRequest, "MISSING_ARGUMENT", "requests: missing required argument"))
		return
	}
	b := s.approvals()
	b.mu.Lock()
	b.syncLocked()
	results := make([]processResult, len(body.Requests))
	var first *Failure
	for i, raw := range body.Requests {
		res, f := b.process(raw, c.userID)
		if f != nil {
			if first == nil {
				first = f
			}
			res = processResult{Errors: make([]processError, 0, len(f.Errors))}
			for _, e := range f.Errors {
				fields := e.Fields
				if fields == nil {
					fields = []string{}
				}
				res.Errors = append(res.Errors, processError{StatusCode: e.ErrorCode, Message: e.Message, Fields: fields})
			}
		}
		results[i] = res
	}
	b.mu.Unlock()
	if len(results) == 1 && first != nil {
		writeFailure(w, first)
		return
	}
	writeJSON(w, http.StatusOK, results)
}

// process runs one request; the caller holds b.mu.
func (b *approvalBook) process(raw json.RawMessage, userID string) (processResult, *Failure) {
	var req processRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		return processResult{}, jsonFailure(err)
	}
	skip, f := parseSkip(req.SkipEntryCriteria)
	if f != nil {
		return processResult{}, f
	}
	comments := ""
	if req.Comments != nil {
		comments = *req.Comments
	}
	switch req.ActionType {
	case "Submit":
		return b.submit(req, skip, comments, userID)
	case "Approve":
		return b.decide(req.ContextID, "Approved", comments, userID)
	case "Reject":
		return b.decide(req.ContextID, "Rejected", comments, userID)
	case "":
		return processResult{}, failFields(http.StatusBadRequest, "REQUIRED_FIELD_MISSING", []string{"actionType"}, "Required fields are missing: [actionType]")
	}
	return processResult{}, failFields(http.StatusBadRequest, "JSON_PARSER_ERROR", []string{}, "Cannot deserialize instance of actionType from VALUE_STRING value %s or request may be missing a required field", req.ActionType)
}

// jsonFailure reports a request element that does not fit ProcessRequest.
func jsonFailure(err error) *Failure {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return failFields(http.StatusBadRequest, "JSON_PARSER_ERROR", []string{}, "Cannot deserialize instance of %s from %s value or request may be missing a required field", te.Type, te.Value)
	}
	return failFields(http.StatusBadRequest, "JSON_PARSER_ERROR", []string{}, "%s", err.Error())
}

// parseSkip accepts skipEntryCriteria as a boolean or as the string "true" or
// "false" (Salesforce's own example sends the string).
func parseSkip(raw json.RawMessage) (bool, *Failure) {
	if len(raw) == 0 || string(raw) == "null" {
		return false, nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return false, jsonFailure(err)
	}
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		switch strings.ToLower(x) {
		case "true":
			return true, nil
		case "false", "":
			return false, nil
		}
	}
	return false, failFields(http.StatusBadRequest, "JSON_PARSER_ERROR", []string{}, "Cannot deserialize instance of boolean from %s value %s or request may be missing a required field", jsonKindOf(v), string(raw))
}

// submit starts an approval: the record must exist, no instance of it may be
// pending, and a process for its object must accept it.
func (b *approvalBook) submit(req processRequest, skip bool, comments, userID string) (processResult, *Failure) {
	target := sfid.To18(req.ContextID)
	var record map[string]any
	var object *Object
	if target != "" {
		object, record = b.store.record(target)
	}
	if record == nil {
		return processResult{}, errCrossReference
	}
	submitter := userID
	if req.ContextActorID != "" {
		if submitter = b.userLocked(req.ContextActorID); submitter == "" {
			return processResult{}, errCrossReference
		}
	}
	var approvers []string
	for _, id := range req.NextApproverIDs {
		u := b.userLocked(id)
		if u == "" {
			return processResult{}, errCrossReference
		}
		approvers = append(approvers, u)
	}
	if len(b.store.findRows("ProcessInstance", map[string]any{"TargetObjectId": target, "Status": "Pending"})) > 0 {
		return processResult{}, errInProcess
	}
	d := b.choose(object.Name, req.ProcessDefinitionNameOrID, skip && req.ProcessDefinitionNameOrID != "", record)
	if d == nil {
		return processResult{}, errNoProcess
	}
	if len(approvers) == 0 {
		approvers = append(approvers, d.p.Approvers...)
	}
	if len(approvers) == 0 {
		if u := b.store.UserID(); u != "" {
			approvers = []string{u}
		}
	}
	instance, err := b.store.InsertSystem("ProcessInstance", map[string]any{
		"ProcessDefinitionId": d.id, "TargetObjectId": target, "Status": "Pending",
		"SubmittedById": submitter, "LastActorId": submitter, "CompletedDate": nil,
	})
	if err != nil {
		return processResult{}, internalFailure(err)
	}
	if _, err := b.store.InsertSystem("ProcessInstanceStep", map[string]any{
		"ProcessInstanceId": instance, "StepStatus": "Started", "ActorId": submitter,
		"OriginalActorId": submitter, "Comments": nilIfEmpty(comments),
	}); err != nil {
		return processResult{}, internalFailure(err)
	}
	items := make([]string, 0, len(approvers))
	for _, a := range approvers {
		id, err := b.store.InsertSystem("ProcessInstanceWorkitem", map[string]any{
			"ProcessInstanceId": instance, "ActorId": a, "OriginalActorId": a,
		})
		if err != nil {
			return processResult{}, internalFailure(err)
		}
		items = append(items, id)
	}
	pending := "Pending"
	return processResult{
		ActorIDs: approvers, EntityID: &target, Errors: nil, InstanceID: &instance,
		InstanceStatus: &pending, NewWorkitemIDs: items, Success: true,
	}, nil
}

// choose finds the process a submission enters: the named one (developer name
// or id) or else the first active one of the object whose entry criteria admit
// the record. skip bypasses the criteria of a named process only.
func (b *approvalBook) choose(object, nameOrID string, skip bool, record map[string]any) *approvalDef {
	id := sfid.To18(nameOrID)
	for _, d := range b.defs {
		if d.p.Inactive || d.p.Object != object {
			continue
		}
		if nameOrID != "" && !strings.EqualFold(d.p.DeveloperName, nameOrID) && d.id != id {
			continue
		}
		if !skip && d.p.EntryCriteria != nil && !d.p.EntryCriteria(record) {
			if nameOrID != "" {
				return nil
			}
			continue
		}
		return d
	}
	return nil
}

// decide approves or rejects the pending instance of a work item. The instance
// is decided by this one response; every work item of it goes away.
func (b *approvalBook) decide(contextID, status, comments, userID string) (processResult, *Failure) {
	item := sfid.To18(contextID)
	var fields map[string]any
	var o *Object
	if item != "" {
		o, fields = b.store.record(item)
	}
	if fields == nil || o.Name != "ProcessInstanceWorkitem" {
		return processResult{}, errCrossReference
	}
	instance, _ := fields["ProcessInstanceId"].(string)
	_, inst := b.store.record(instance)
	if inst == nil || inst["Status"] != "Pending" {
		return processResult{}, errCrossReference
	}
	target, _ := inst["TargetObjectId"].(string)
	original, _ := fields["ActorId"].(string)
	if _, err := b.store.InsertSystem("ProcessInstanceStep", map[string]any{
		"ProcessInstanceId": instance, "StepStatus": status, "ActorId": userID,
		"OriginalActorId": original, "Comments": nilIfEmpty(comments),
	}); err != nil {
		return processResult{}, internalFailure(err)
	}
	for _, id := range b.store.findRows("ProcessInstanceWorkitem", map[string]any{"ProcessInstanceId": instance}) {
		b.store.removeSystem(id)
	}
	if err := b.store.UpdateSystem(instance, map[string]any{
		"Status": status, "LastActorId": userID, "CompletedDate": b.store.timestamp(),
	}); err != nil {
		return processResult{}, internalFailure(err)
	}
	return processResult{
		ActorIDs: nil, EntityID: &target, Errors: nil, InstanceID: &instance,
		InstanceStatus: &status, NewWorkitemIDs: []string{}, Success: true,
	}, nil
}

// record returns a live record's object and a copy of its fields by 18-char id.
func (st *Store) record(id string) (*Object, map[string]any) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	r, ok := st.rows[id]
	if !ok || r.fields["IsDeleted"] == true {
		return nil, nil
	}
	out := make(map[string]any, len(r.fields))
	for k, v := range r.fields {
		out[k] = v
	}
	return r.object, out
}

// removeSystem moves a platform-owned row (a decided work item) to the recycle
// bin: /query no longer sees it, /queryAll does.
func (st *Store) removeSystem(id string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if r, ok := st.rows[id]; ok {
		r.fields["IsDeleted"] = true
		st.touch(r)
	}
}

// findRows returns the ids of live records of object whose fields equal all of
// match, in insertion order.
func (st *Store) findRows(object string, match map[string]any) []string {
	st.mu.RLock()
	defer st.mu.RUnlock()
	o, ok := st.objects[strings.ToLower(object)]
	if !ok {
		return nil
	}
	keys := make([]string, 0, len(match))
	for k := range match {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var ids []string
rows:
	for _, r := range st.order[o.Name] {
		if r.fields["IsDeleted"] == true {
			continue
		}
		for _, k := range keys {
			if r.fields[k] != match[k] {
				continue rows
			}
		}
		ids = append(ids, r.fields["Id"].(string))
	}
	return ids
}

// internalFailure is the answer to a store error that should not happen.
func internalFailure(error) *Failure {
	return fail(http.StatusInternalServerError, "UNKNOWN_EXCEPTION", "An unexpected error occurred. Please include this ErrorId if you contact support: %s", errorID())
}

// nilIfEmpty stores an absent comment as null, as Salesforce does.
func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
