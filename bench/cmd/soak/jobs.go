package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/sfconnect/connector/sforg"
	"github.com/sfconnect/connector/shared/faults"
)

// kind is one write function and how often the soak picks it.
type kind struct {
	function string
	weight   int
	// prepare makes what the write acts on and returns its input (without the
	// key) and the id of the record it acts on ("" when it makes one).
	prepare func(ctx context.Context, d *driver, n int) (map[string]any, string, error)
	// check finds in the org how many times the write happened (dups: the
	// copies beyond one of what it makes) and whether an acknowledged write
	// is there (present).
	check func(org *sforg.Server, j *job) (dups int, present bool)
}

// kindsFor is the mix of writes: all of them with the ledger; without it,
// the record writes Salesforce's own key protects.
func kindsFor(c config) []kind {
	all := []kind{
		{"create", 30, prepareCreate, checkCreate},
		{"update", 14, prepareUpdate, checkUpdate},
		{"delete", 10, prepareDelete, checkDelete},
		{"upsert", 16, prepareUpsert, checkUpsert},
		{"approval-submit", 12, prepareSubmit, checkSubmit},
		{"approval-approve", 7, prepareDecision, checkDecision("Approved")},
		{"approval-reject", 5, prepareDecision, checkDecision("Rejected")},
		{"custom-object-create", 6, prepareCustomObject, checkCustomObject},
	}
	if c.ledger {
		return all
	}
	return all[:3]
}

// delivery is how a write reaches the functions.
type delivery int

const (
	plain       delivery = iota // one invoke, run again after a retryable failure
	twice                       // the first delivery reaches two environments at once
	eventBridge                 // an EventBridge event whose id is the key
	again                       // delivered once more after it succeeded
)

var deliveryNames = [...]string{"once", "twice at once", "as an EventBridge event", "again after it succeeded"}

// job is one write: its input, its key, how it is delivered, what came back.
type job struct {
	n      int
	kind   kind
	mode   delivery
	key    string
	params map[string]any
	target string // the record, work item or name the write acts on

	mu       sync.Mutex
	answers  []string // the successful answers, in order
	refusals []string // Salesforce's refusals (answers that are not 2xx)
	errors   map[string]int
	crashes  []string
	untyped  []string
	retries  int
}

// newJob picks a write and its delivery and prepares what it acts on.
func (d *driver) newJob(ctx context.Context, n int) (*job, error) {
	total := 0
	for _, k := range d.kinds {
		total += k.weight
	}
	pick := d.intN(total)
	var k kind
	for _, k = range d.kinds {
		if pick -= k.weight; pick < 0 {
			break
		}
	}
	mode := plain
	switch r := d.random(); {
	case r < 0.20:
		mode = twice
	case r < 0.32:
		mode = eventBridge
	case r < 0.40:
		mode = again
	}
	params, target, err := k.prepare(ctx, d, n)
	if err != nil {
		return nil, fmt.Errorf("preparing write %d (%s): %w", n, k.function, err)
	}
	return &job{n: n, kind: k, mode: mode, key: fmt.Sprintf("soak-%d-%d", d.c.seed, n), params: params, target: target,
		errors: map[string]int{}}, nil
}

// event is the invoke payload: the input with its key, or an EventBridge
// event carrying the input, whose id is the key.
func (j *job) event() []byte {
	var v any
	if j.mode == eventBridge {
		v = map[string]any{"version": "0", "id": j.key, "detail-type": "Soak " + j.kind.function, "source": "sfconnect.soak",
			"account": "123456789012", "time": "2026-12-01T12:00:00Z", "region": "us-east-1", "resources": []string{},
			"detail": j.params}
	} else {
		m := map[string]any{"idempotencyKey": j.key}
		for k, p := range j.params {
			m[k] = p
		}
		v = m
	}
	b, _ := json.Marshal(v) // maps of strings and JSON values
	return b
}

// record keeps what one invoke of the job gave.
func (j *job) record(o outcome) {
	j.mu.Lock()
	defer j.mu.Unlock()
	switch {
	case o.crashed:
		j.crashes = append(j.crashes, o.message)
	case o.errorType != "":
		if !faults.Code(o.errorType).Known() {
			j.untyped = append(j.untyped, o.errorType+": "+o.message)
		}
		j.errors[o.errorType]++
	case o.status >= 200 && o.status < 300:
		j.answers = append(j.answers, o.answer)
	default:
		j.refusals = append(j.refusals, o.answer)
	}
}

func (j *job) acked() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.answers) > 0
}

// answerID is the "id" of the first successful answer's result.
func (j *job) answerID() string {
	_, result, _ := strings.Cut(j.answers[0], " ")
	var r struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal([]byte(result), &r)
	return r.ID
}

// account inserts an Account for a write to act on.
func account(d *driver, name string) (string, error) {
	return d.org.Store().Insert("Account", map[string]any{"Name": name})
}

func prepareCreate(_ context.Context, d *driver, n int) (map[string]any, string, error) {
	name := fmt.Sprintf("Soak %d-%d", d.c.seed, n)
	return map[string]any{"SObjectName": "Account", "salesforcePayload": map[string]any{"Name": name, "Industry": "Energy"}}, name, nil
}

func checkCreate(org *sforg.Server, j *job) (int, bool) {
	ids := org.Store().FindBy("Account", "Name", j.target)
	return max(len(ids)-1, 0), len(ids) == 1 && len(j.answers) > 0 && ids[0] == j.answerID()
}

func prepareUpdate(_ context.Context, d *driver, n int) (map[string]any, string, error) {
	id, err := account(d, fmt.Sprintf("Soak update %d", n))
	return map[string]any{"SObjectName": "Account", "SObjectId": id,
		"salesforcePayload": map[string]any{"Description": fmt.Sprintf("updated by write %d", n)}}, id, err
}

func checkUpdate(org *sforg.Server, j *job) (int, bool) {
	_, rec, err := org.Store().Get("Account", j.target, []string{"Description"})
	want := j.params["salesforcePayload"].(map[string]any)["Description"]
	return 0, err == nil && rec["Description"] == want
}

func prepareDelete(_ context.Context, d *driver, n int) (map[string]any, string, error) {
	id, err := account(d, fmt.Sprintf("Soak delete %d", n))
	return map[string]any{"SObjectName": "Account", "SObjectId": id}, id, err
}

func checkDelete(org *sforg.Server, j *job) (int, bool) {
	_, _, err := org.Store().Get("Account", j.target, nil)
	return 0, err != nil
}

func prepareUpsert(_ context.Context, d *driver, n int) (map[string]any, string, error) {
	number := fmt.Sprintf("INV-%d-%d", d.c.seed, n)
	return map[string]any{"SObjectName": "Invoice__c", "externalIdField": "Invoice_Number__c", "externalIdValue": number,
		"salesforcePayload": map[string]any{"Name": "Soak upsert " + number}}, number, nil
}

func checkUpsert(org *sforg.Server, j *job) (int, bool) {
	ids := org.Store().FindBy("Invoice__c", "Invoice_Number__c", j.target)
	return max(len(ids)-1, 0), len(ids) == 1
}

func prepareSubmit(_ context.Context, d *driver, n int) (map[string]any, string, error) {
	id, err := account(d, fmt.Sprintf("Soak submit %d", n))
	return map[string]any{"salesforcePayload": map[string]any{"contextId": id, "comments": "soak"}}, id, err
}

func checkSubmit(org *sforg.Server, j *job) (int, bool) {
	ids := org.Store().FindBy("ProcessInstance", "TargetObjectId", j.target)
	return max(len(ids)-1, 0), len(ids) == 1
}

// prepareDecision submits a new Account for approval, without faults, and
// returns the approval or rejection of its work item.
func prepareDecision(ctx context.Context, d *driver, n int) (map[string]any, string, error) {
	id, err := account(d, fmt.Sprintf("Soak decision %d", n))
	if err != nil {
		return nil, "", err
	}
	event, _ := json.Marshal(map[string]any{"salesforcePayload": map[string]any{"contextId": id}})
	out, err := d.prep.ApprovalSubmit(ctx, event)
	if err != nil {
		return nil, "", err
	}
	var res struct {
		Result string `json:"salesforceResult"`
	}
	var results []struct {
		InstanceID     string   `json:"instanceId"`
		NewWorkitemIDs []string `json:"newWorkitemIds"`
	}
	if json.Unmarshal(out, &res) != nil || json.Unmarshal([]byte(res.Result), &results) != nil ||
		len(results) != 1 || len(results[0].NewWorkitemIDs) != 1 {
		return nil, "", fmt.Errorf("submit for a work item: got %s", out)
	}
	return map[string]any{"salesforcePayload": map[string]any{"contextId": results[0].NewWorkitemIDs[0], "comments": "soak"}},
		results[0].InstanceID, nil
}

// checkDecision counts the decisions of the instance (target) with status.
func checkDecision(status string) func(org *sforg.Server, j *job) (int, bool) {
	return func(org *sforg.Server, j *job) (int, bool) {
		res, err := org.Store().Query("SELECT Id FROM ProcessInstanceStep WHERE ProcessInstanceId = '"+j.target+
			"' AND StepStatus = '"+status+"'", false)
		if err != nil {
			return 0, false
		}
		n := len(res.Records)
		return max(n-1, 0), n == 1
	}
}

func prepareCustomObject(_ context.Context, d *driver, n int) (map[string]any, string, error) {
	name := fmt.Sprintf("Soak%d_%d__c", d.c.seed, n)
	return map[string]any{"salesforcePayload": map[string]any{"fullName": name, "label": "Soak", "pluralLabel": "Soaks",
		"nameField": map[string]any{"label": "Soak Name", "type": "Text"}, "deploymentStatus": "Deployed", "sharingModel": "ReadWrite"}}, name, nil
}

func checkCustomObject(org *sforg.Server, j *job) (int, bool) {
	_, ok := org.Store().Object(j.target)
	return 0, ok
}
