package connector

import (
	"context"
	"net/http"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sfconnect/connector/shared/salesforce"
)

// Action is one action of the contract and the Lambda function that does it.
// The table of them, Actions, is the one list of "every action": the tests,
// the check of functions/, the Makefile and template.yaml, and the output
// budget's hints all read it.
type Action struct {
	Name     string // as the contract names it, e.g. "APPROVAL_SUBMIT"
	Function string // its folder under functions/, and build/<Function>/bootstrap
	// Method is the HTTP method of its Salesforce call. A POST is never sent
	// again once it may have reached Salesforce; the others are retried.
	Method string
	SOAP   bool // the call is a SOAP request, whose faults come with status 500
	// StatusOnly says a successful output carries no salesforceResult
	// (Salesforce answers 204 without a body).
	StatusOnly bool
	// Hint tells a user how to get the output under the output budget.
	Hint string
	// S3 says the action reads or writes S3: its function's main imports
	// shared/blob/s3blob, which no other function links.
	S3 bool

	call work
}

// LogicalID is the function's resource in template.yaml, and the suffix of
// its `make build-<LogicalID>` target that sam build runs:
// approval-submit -> ApprovalSubmitFunction.
func (a Action) LogicalID() string {
	var b strings.Builder
	for word := range strings.SplitSeq(a.Function, "-") {
		b.WriteString(strings.ToUpper(word[:1]) + word[1:])
	}
	return b.String() + "Function"
}

var (
	actCreate = Action{Name: "CREATE", Function: "create", Method: http.MethodPost, call: plain(create)}
	actGet    = Action{Name: "GET", Function: "get", Method: http.MethodGet, call: plain(get),
		Hint: "name only the fields you need in fields"}
	actUpdate = Action{Name: "UPDATE", Function: "update", Method: http.MethodPatch, StatusOnly: true, call: plain(update)}
	actDelete = Action{Name: "DELETE", Function: "delete", Method: http.MethodDelete, StatusOnly: true, call: plain(remove)}
	actUpsert = Action{Name: "UPSERT", Function: "upsert", Method: http.MethodPatch, call: plain(upsert)}
	actQuery  = Action{Name: "QUERY", Function: "query", Method: http.MethodGet, call: paged((*Connector).query),
		Hint: "page it with pageSize, maxRecords and cursor"}
	actApprovalList    = Action{Name: "APPROVAL_LIST", Function: "approval-list", Method: http.MethodGet, call: paged((*Connector).approvalList), Hint: "with pending, page it with pageSize, maxRecords and cursor"}
	actApprovalSubmit  = Action{Name: "APPROVAL_SUBMIT", Function: "approval-submit", Method: http.MethodPost, call: plain(approval("Submit"))}
	actApprovalApprove = Action{Name: "APPROVAL_APPROVE", Function: "approval-approve", Method: http.MethodPost, call: plain(approval("Approve"))}
	actApprovalReject  = Action{Name: "APPROVAL_REJECT", Function: "approval-reject", Method: http.MethodPost, call: plain(approval("Reject"))}
	actCustomObject    = Action{Name: "CUSTOM_OBJECT_CREATE", Function: "custom-object-create", Method: http.MethodPost, SOAP: true,
		call: plain(customObject)}
	// COLLECTION's method depends on its operation: create is a POST, update
	// and upsert are PATCH, delete is DELETE (collection.go). The table says
	// POST, the create, which is never resent.
	actCollection = Action{Name: "COLLECTION", Function: "collection", Method: http.MethodPost, call: counted(collection),
		Hint: "send fewer records per call"}
	actComposite = Action{Name: "COMPOSITE", Function: "composite", Method: http.MethodPost, call: counted(composite),
		Hint: "GET only the fields you need (?fields=), LIMIT the queries, or split the subrequests over several calls"}

	// Bulk API 2.0 through S3 (bulk.go); their functions link S3.
	actBulkIngestStart  = Action{Name: "BULK_INGEST_START", Function: "bulk-ingest-start", Method: http.MethodPost, S3: true, call: bulk(ingestStart)}
	actBulkJobStatus    = Action{Name: "BULK_JOB_STATUS", Function: "bulk-job-status", Method: http.MethodGet, call: bulk(jobStatus)}
	actBulkIngestFinish = Action{Name: "BULK_INGEST_FINISH", Function: "bulk-ingest-finish", Method: http.MethodGet, S3: true, call: bulk(ingestFinish)}
	actBulkQueryStart   = Action{Name: "BULK_QUERY_START", Function: "bulk-query-start", Method: http.MethodPost, S3: true, call: bulk(queryStart)}
	actBulkQueryFinish  = Action{Name: "BULK_QUERY_FINISH", Function: "bulk-query-finish", Method: http.MethodGet, S3: true, call: bulk(queryFinish)}
)

// table is the table of actions, in the contract's order.
var table = []*Action{
	&actCreate, &actGet, &actUpdate, &actDelete, &actQuery,
	&actApprovalSubmit, &actApprovalList, &actApprovalApprove, &actApprovalReject,
	&actCustomObject, &actUpsert,
	&actCollection, &actComposite,
	&actBulkIngestStart, &actBulkJobStatus, &actBulkIngestFinish, &actBulkQueryStart, &actBulkQueryFinish,
}

// Actions returns the table of actions, in the contract's order.
func Actions() []Action {
	out := make([]Action, len(table))
	for i, a := range table {
		out[i] = *a
	}
	return out
}

// Main is the whole main function of functions/<function>: it builds the
// Connector from the environment and serves that action to Lambda.
func Main(function string) {
	a := actionOf(function)
	if a == nil {
		// A main naming no action is a build mistake; a test reads every main.
		os.Stderr.WriteString("connector: no action has the function " + function + "\n")
		os.Exit(2)
	}
	lambda.Start(MustFromEnv().Handler(*a))
}

func actionOf(function string) *Action {
	for _, a := range table {
		if a.Function == function {
			return a
		}
	}
	return nil
}

// Handler returns the handler of action a.
func (c *Connector) Handler(a Action) Handler {
	return func(ctx context.Context, event []byte) ([]byte, error) { return c.run(ctx, &a, event) }
}

// Create is the CREATE action: SObjectName and salesforcePayload in, the create
// result and 201 out.
func (c *Connector) Create(ctx context.Context, event []byte) ([]byte, error) {
	return c.run(ctx, &actCreate, event)
}

// Get is the GET action: SObjectName and SObjectId in (and optionally fields, the
// field names to read), the record out.
func (c *Connector) Get(ctx context.Context, event []byte) ([]byte, error) {
	return c.run(ctx, &actGet, event)
}

// Update is the UPDATE action: SObjectName, SObjectId and salesforcePayload in,
// the status out.
func (c *Connector) Update(ctx context.Context, event []byte) ([]byte, error) {
	return c.run(ctx, &actUpdate, event)
}

// Delete is the DELETE action: SObjectName and SObjectId in, the status out.
func (c *Connector) Delete(ctx context.Context, event []byte) ([]byte, error) {
	return c.run(ctx, &actDelete, event)
}

// Upsert is the UPSERT action: SObjectName, externalIdField, externalIdValue and
// salesforcePayload in; the record keyed by the external id is created (201) or
// updated (200 with "created":false, or 204 before API 46.0). A value matching
// several records is Salesforce's 300 with the list of their URLs, passed on like
// any answer. Keyed by the external id, a retried step never creates a
// duplicate, so the connector retries it like an UPDATE.
func (c *Connector) Upsert(ctx context.Context, event []byte) ([]byte, error) {
	return c.run(ctx, &actUpsert, event)
}

// Query is the QUERY action. With salesforceQuery alone it returns the whole
// result, every page merged into one {"totalSize","done":true,"records"}, or
// fails when that would pass the output budget. With pageSize, maxRecords or
// cursor it pages: each output holds what fits of the result, and its cursor
// continues where it stopped (see README "Paging through a large query").
func (c *Connector) Query(ctx context.Context, event []byte) ([]byte, error) {
	return c.run(ctx, &actQuery, event)
}

// ApprovalList is the APPROVAL_LIST action: with no input the org's approval
// process definitions out; with "pending": true the work items awaiting
// approval, filtered and paged (approvals_pending.go).
func (c *Connector) ApprovalList(ctx context.Context, event []byte) ([]byte, error) {
	return c.run(ctx, &actApprovalList, event)
}

// ApprovalSubmit is the APPROVAL_SUBMIT action: a ProcessRequest (or a whole
// {"requests":[...]} body) in salesforcePayload, the ProcessResults out.
func (c *Connector) ApprovalSubmit(ctx context.Context, event []byte) ([]byte, error) {
	return c.run(ctx, &actApprovalSubmit, event)
}

// ApprovalApprove is the APPROVAL_APPROVE action; contextId is the work item id.
func (c *Connector) ApprovalApprove(ctx context.Context, event []byte) ([]byte, error) {
	return c.run(ctx, &actApprovalApprove, event)
}

// ApprovalReject is the APPROVAL_REJECT action; contextId is the work item id.
func (c *Connector) ApprovalReject(ctx context.Context, event []byte) ([]byte, error) {
	return c.run(ctx, &actApprovalReject, event)
}

// CustomObjectCreate is the CUSTOM_OBJECT_CREATE action: a CustomObject
// definition in salesforcePayload, the Metadata API's SaveResult as JSON out. A
// failed SaveResult is an output, not an error: its errors are in the result.
func (c *Connector) CustomObjectCreate(ctx context.Context, event []byte) ([]byte, error) {
	return c.run(ctx, &actCustomObject, event)
}

// Collection is the COLLECTION action: up to 200 records of one object
// created, updated, upserted by an external id or deleted in one sObject
// Collections call; Salesforce's per-record results out, with the counts of
// successes and failures.
func (c *Connector) Collection(ctx context.Context, event []byte) ([]byte, error) {
	return c.run(ctx, &actCollection, event)
}

// Composite is the COMPOSITE action: up to 25 subrequests of this org's REST
// API in one call, later ones using earlier results through @{ref.field}
// references, all or none when asked; Salesforce's compositeResponse out, with
// the counts of subrequests that succeeded, failed and were halted.
func (c *Connector) Composite(ctx context.Context, event []byte) ([]byte, error) {
	return c.run(ctx, &actComposite, event)
}

// call is the work of an action whose output is the answer alone.
type call func(ctx context.Context, c *salesforce.Client, in *input) (*salesforce.Response, error)

// work is an action's work: the Salesforce answer and what the output
// carries beside the contract's two fields.
type work func(c *Connector, ctx context.Context, in *input) (*salesforce.Response, extras, error)

// extras are the output's fields beside salesforceResult and salesforceStatus.
type extras struct {
	paging *Paging // QUERY and APPROVAL_LIST pending
	tally  *Tally  // COLLECTION and COMPOSITE
	bulk   *Bulk   // the bulk actions' job state
}

// pagedCall is an action's work that also gives the output's paging state.
type pagedCall func(c *Connector, ctx context.Context, in *input) (*salesforce.Response, *Paging, error)

// countedCall is an action's work whose output also carries the counts of
// what it wrote (tally.go).
type countedCall func(c *Connector, ctx context.Context, in *input) (*salesforce.Response, *Tally, error)

// plain makes a call without extras the action's work.
func plain(fn call) work {
	return func(c *Connector, ctx context.Context, in *input) (*salesforce.Response, extras, error) {
		resp, err := fn(ctx, c.client, in)
		return resp, extras{}, err
	}
}

// paged makes a pagedCall the action's work.
func paged(fn pagedCall) work {
	return func(c *Connector, ctx context.Context, in *input) (*salesforce.Response, extras, error) {
		resp, p, err := fn(c, ctx, in)
		return resp, extras{paging: p}, err
	}
}

// counted makes a countedCall the action's work.
func counted(fn countedCall) work {
	return func(c *Connector, ctx context.Context, in *input) (*salesforce.Response, extras, error) {
		resp, t, err := fn(c, ctx, in)
		return resp, extras{tally: t}, err
	}
}
