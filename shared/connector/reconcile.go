package connector

// The look-ups that follow an unknown outcome (idempotency.go): before a write
// whose earlier attempt may have reached Salesforce is sent again, each action
// asks Salesforce what that attempt did, and answers as Salesforce would have
// answered it when it finds the work done.

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/salesforce"
	"github.com/sfconnect/connector/shared/salesforce/soap"
)

// reconcilers are the look-ups by action. UPDATE and UPSERT have none: sending
// the same fields again changes nothing more (and with a Salesforce key
// Salesforce answers the first attempt's answer).
var reconcilers = map[string]reconcileFunc{
	actCreate.Name:          reconcileCreate,
	actDelete.Name:          reconcileDelete,
	actApprovalSubmit.Name:  reconcileApproval("Submit"),
	actApprovalApprove.Name: reconcileApproval("Approve"),
	actApprovalReject.Name:  reconcileApproval("Reject"),
	actCustomObject.Name:    reconcileCustomObject,
}

// clockSkew widens a look-up by creation time: the first attempt's start is by
// the function's clock, CreatedDate by Salesforce's.
const clockSkew = 5 * time.Minute

// reconcileCreate: with a Salesforce Idempotency-Key the create is sent again
// and Salesforce answers for the first attempt. Without one nothing can find
// the record the first attempt may have made, so the create is not sent again.
func reconcileCreate(ctx context.Context, sf *salesforce.Client, in *input, _ time.Time) (*salesforce.Response, error) {
	key, err := in.salesforceKey(ctx, sf)
	if err != nil || key != "" {
		return nil, err
	}
	_, version, _ := sf.KeyedWrites(ctx)
	return nil, faults.New(faults.UnknownError,
		"%s: an earlier attempt of this create may have reached Salesforce, and API %s has no idempotency key to ask about it by (56.0 and later do); the outcome is unknown and the create is not sent again (check for the record, or use UPSERT)",
		in.key.name(), version)
}

// reconcileDelete: a record that is gone after an unknown outcome was deleted
// by that attempt (or was already gone): the delete is done.
func reconcileDelete(ctx context.Context, sf *salesforce.Client, in *input, _ time.Time) (*salesforce.Response, error) {
	key, err := in.salesforceKey(ctx, sf)
	if err != nil || key != "" {
		return nil, err
	}
	name, id, err := in.record()
	if err != nil {
		return nil, err
	}
	resp, err := sf.GetRecord(ctx, name, id, "Id")
	if err != nil {
		return nil, err
	}
	if resp.Status == http.StatusNotFound { // NOT_FOUND, or ENTITY_IS_DELETED
		return &salesforce.Response{Status: http.StatusNoContent, Header: resp.Header}, nil
	}
	return nil, nil
}

// reconcileCustomObject: an object that exists after an unknown outcome was
// created by that attempt; the answer is createMetadata's SaveResult.
// [UNCONFIRMED] an object of that name made by someone else meanwhile counts
// as made by the attempt too: the Metadata API keeps no creator to tell them
// apart by.
func reconcileCustomObject(ctx context.Context, sf *salesforce.Client, in *input, _ time.Time) (*salesforce.Response, error) {
	def, err := in.customObject()
	if err != nil {
		return nil, err
	}
	exists, err := sf.ObjectExists(ctx, def.FullName)
	if err != nil || !exists {
		return nil, err
	}
	return jsonAnswer(soap.SaveResult{FullName: def.FullName, Success: true, Errors: []soap.SaveError{}})
}

// approvalResult is one ProcessResult of POST process/approvals/, in
// Salesforce's property order.
type approvalResult struct {
	ActorIDs       []string `json:"actorIds"`
	EntityID       string   `json:"entityId"`
	Errors         []string `json:"errors"`
	InstanceID     string   `json:"instanceId"`
	InstanceStatus string   `json:"instanceStatus"`
	NewWorkitemIDs []string `json:"newWorkitemIds"`
	Success        bool     `json:"success"`
}

// reconcileApproval looks for what an approval request did. A submission
// made a ProcessInstance of its record, created since the first attempt
// began; an approval or rejection decided the instance of its work item,
// which is then deleted (queryAll still reads it). When every request of the
// body is found done, the answer is their ProcessResults; when none is, the
// body is sent again (a submission that did not happen, or a work item still
// pending); anything else cannot be told apart from a partial answer and is
// UNKNOWN_ERROR.
//
// [UNCONFIRMED] That queryAll returns a decided work item in Salesforce as it
// does in the local org; when it finds no row at all, the outcome stays
// unknown and nothing is sent.
func reconcileApproval(actionType string) reconcileFunc {
	return func(ctx context.Context, sf *salesforce.Client, in *input, since time.Time) (*salesforce.Response, error) {
		body, err := in.approvalRequest(actionType)
		if err != nil {
			return nil, err
		}
		var req struct {
			Requests []struct {
				ContextID string `json:"contextId"`
			} `json:"requests"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			return nil, faults.Wrap(faults.UnknownError, err, "reading the approval request")
		}
		ids := make([]string, len(req.Requests))
		for i, r := range req.Requests {
			ids[i] = r.ContextID // checked by approvalBody: ids only
		}
		var found map[string]approvalResult
		if actionType == "Submit" {
			found, err = findSubmissions(ctx, sf, ids, since)
		} else {
			found, err = findDecisions(ctx, sf, ids, actionType)
		}
		if err != nil {
			return nil, err
		}
		results := make([]approvalResult, 0, len(ids))
		for _, id := range ids {
			if r, ok := found[id]; ok {
				results = append(results, r)
			}
		}
		switch len(results) {
		case 0:
			return nil, nil
		case len(ids):
			return jsonAnswer(results)
		}
		return nil, faults.New(faults.UnknownError,
			"%s: an earlier attempt's approval requests are only partly found done in Salesforce; the outcome is unknown and nothing is sent again", in.key.name())
	}
}

// findSubmissions finds the latest ProcessInstance of each record created
// since the first attempt began, with its pending work items.
func findSubmissions(ctx context.Context, sf *salesforce.Client, targets []string, since time.Time) (map[string]approvalResult, error) {
	soql := "SELECT Id, Status, TargetObjectId, CreatedDate, (SELECT Id, ActorId FROM Workitems) FROM ProcessInstance" +
		" WHERE TargetObjectId IN (" + soqlList(targets) + ") AND CreatedDate >= " +
		since.Add(-clockSkew).UTC().Format("2006-01-02T15:04:05Z") + " ORDER BY CreatedDate DESC"
	rows, err := sf.Lookup(ctx, soql, false)
	if err != nil {
		return nil, err
	}
	found := map[string]approvalResult{}
	for _, raw := range rows {
		var row struct {
			ID        string `json:"Id"`
			Status    string `json:"Status"`
			Target    string `json:"TargetObjectId"`
			Workitems *struct {
				Records []struct {
					ID      string `json:"Id"`
					ActorID string `json:"ActorId"`
				} `json:"records"`
			} `json:"Workitems"`
		}
		if json.Unmarshal(raw, &row) != nil {
			continue
		}
		key := matchID(targets, row.Target)
		if _, seen := found[key]; seen || key == "" {
			continue // an older one: the rows come newest first
		}
		r := approvalResult{EntityID: row.Target, InstanceID: row.ID, InstanceStatus: row.Status, Success: true,
			ActorIDs: []string{}, NewWorkitemIDs: []string{}}
		if row.Workitems != nil {
			for _, w := range row.Workitems.Records {
				r.ActorIDs = append(r.ActorIDs, w.ActorID)
				r.NewWorkitemIDs = append(r.NewWorkitemIDs, w.ID)
			}
		}
		found[key] = r
	}
	return found, nil
}

// findDecisions finds the work items an approval or rejection decided: deleted,
// with their instance Approved or Rejected as the action would have left it. A
// work item still pending is not done; one decided the other way was decided
// by someone else (sending again gets Salesforce's refusal). A work item that
// no row shows leaves the outcome unknown.
func findDecisions(ctx context.Context, sf *salesforce.Client, items []string, actionType string) (map[string]approvalResult, error) {
	want := map[string]string{"Approve": "Approved", "Reject": "Rejected"}[actionType]
	soql := "SELECT Id, IsDeleted, ProcessInstanceId, ProcessInstance.Status, ProcessInstance.TargetObjectId" +
		" FROM ProcessInstanceWorkitem WHERE Id IN (" + soqlList(items) + ")"
	rows, err := sf.Lookup(ctx, soql, true)
	if err != nil {
		return nil, err
	}
	found := map[string]approvalResult{}
	seen := 0
	for _, raw := range rows {
		var row struct {
			ID        string `json:"Id"`
			IsDeleted bool   `json:"IsDeleted"`
			Instance  string `json:"ProcessInstanceId"`
			Parent    *struct {
				Status string `json:"Status"`
				Target string `json:"TargetObjectId"`
			} `json:"ProcessInstance"`
		}
		if json.Unmarshal(raw, &row) != nil {
			continue
		}
		key := matchID(items, row.ID)
		if key == "" {
			continue
		}
		seen++
		if row.IsDeleted && row.Parent != nil && row.Parent.Status == want {
			found[key] = approvalResult{EntityID: row.Parent.Target, InstanceID: row.Instance, InstanceStatus: want,
				NewWorkitemIDs: []string{}, Success: true}
		}
	}
	if seen < len(items) {
		return nil, faults.New(faults.UnknownError,
			"an earlier attempt's approval request may have reached Salesforce and its work item cannot be found to ask about it; the outcome is unknown and nothing is sent again")
	}
	return found, nil
}

// matchID returns the id of ids that names the same record as id (15- or
// 18-character forms), or "".
func matchID(ids []string, id string) string {
	for _, x := range ids {
		if len(id) >= 15 && len(x) >= 15 && x[:15] == id[:15] {
			return x
		}
	}
	return ""
}

// soqlList is ids as a SOQL list of string literals. The ids were checked
// (sfid.Valid: letters and digits only), so they need no escaping.
func soqlList(ids []string) string {
	quoted := make([]string, len(ids))
	for i, id := range ids {
		quoted[i] = "'" + id + "'"
	}
	return strings.Join(quoted, ", ")
}

// jsonAnswer is a 200 answer with v as its body, as Salesforce would have sent.
func jsonAnswer(v any) (*salesforce.Response, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, faults.Wrap(faults.UnknownError, err, "encoding the answer found")
	}
	return &salesforce.Response{Status: http.StatusOK, Body: body, Header: http.Header{"Content-Type": {"application/json"}}}, nil
}
