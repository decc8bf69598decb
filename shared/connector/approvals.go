package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"

	"github.com/sfconnect/connector/shared/faults"
	"github.com/sfconnect/connector/shared/salesforce"
	"github.com/sfconnect/connector/shared/sfid"
)

// listApprovals lists the org's approval process definitions.
func listApprovals(ctx context.Context, sf *salesforce.Client, _ *input) (*salesforce.Response, error) {
	return sf.ListApprovals(ctx)
}

// approval returns the call of one approval action: it sets actionType on every
// request, so a function cannot be made to do another function's action.
func approval(actionType string) call {
	return func(ctx context.Context, sf *salesforce.Client, in *input) (*salesforce.Response, error) {
		body, err := in.approvalRequest(actionType)
		if err != nil {
			return nil, err
		}
		return sf.ProcessApprovals(ctx, body)
	}
}

// approvalRequest is the body of POST process/approvals/ that salesforcePayload
// asks for, every request with actionType.
func (in *input) approvalRequest(actionType string) (json.RawMessage, error) {
	payload, err := in.payload()
	if err != nil {
		return nil, err
	}
	return approvalBody(payload, actionType)
}

// approvalBody turns a ProcessRequest or a {"requests":[...]} payload into the
// body of POST process/approvals/ with actionType set on each request.
func approvalBody(payload json.RawMessage, actionType string) (json.RawMessage, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(payload, &top); err != nil {
		return nil, faults.New(faults.InvalidInput, "salesforcePayload must be a JSON object")
	}
	requests := []json.RawMessage{payload}
	field := "salesforcePayload"
	if raw, ok := top["requests"]; ok {
		if len(top) != 1 {
			return nil, faults.New(faults.InvalidInput, "salesforcePayload holds requests and other fields: send a ProcessRequest or {\"requests\": [...]}")
		}
		// A fresh slice: decoding into requests[0] would overwrite payload.
		requests = nil
		if err := json.Unmarshal(raw, &requests); err != nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			return nil, faults.New(faults.InvalidInput, "salesforcePayload.requests must be an array of ProcessRequest objects")
		}
		if len(requests) == 0 {
			return nil, faults.New(faults.MissingInput, "salesforcePayload.requests is empty")
		}
		field = "salesforcePayload.requests[]"
	}
	out := make([]map[string]json.RawMessage, len(requests))
	for i, raw := range requests {
		var req map[string]json.RawMessage
		if err := json.Unmarshal(raw, &req); err != nil || req == nil {
			return nil, faults.New(faults.InvalidInput, "%s must be a ProcessRequest object", field)
		}
		if err := checkRequest(req, field, actionType); err != nil {
			return nil, err
		}
		req["actionType"], _ = json.Marshal(actionType)
		out[i] = req
	}
	body, err := json.Marshal(map[string]any{"requests": out})
	if err != nil {
		return nil, faults.Wrap(faults.UnknownError, err, "cannot encode the approval request")
	}
	return body, nil
}

// checkRequest validates the ids of one ProcessRequest and its actionType. An
// actionType in any letter case counts (Salesforce may read "ActionType"); the
// variants are removed, leaving the one the caller sets.
func checkRequest(req map[string]json.RawMessage, field, actionType string) error {
	for key, raw := range req {
		if !strings.EqualFold(key, "actionType") {
			continue
		}
		if !isAbsent(raw) {
			var got string
			if err := json.Unmarshal(raw, &got); err != nil || !strings.EqualFold(got, actionType) {
				return faults.New(faults.InvalidInput, "%s.actionType %s contradicts this function, which only does %s", field, quote(string(raw)), actionType)
			}
		}
		delete(req, key)
	}
	id, err := text(req["contextId"], field+".contextId")
	if err != nil {
		return err
	}
	if !sfid.Valid(id) {
		return faults.New(faults.InvalidInput, "%s.contextId %s is not a Salesforce id", field, quote(id))
	}
	if raw, ok := req["nextApproverIds"]; ok && !isAbsent(raw) {
		var ids []string
		if err := json.Unmarshal(raw, &ids); err != nil {
			return faults.New(faults.InvalidInput, "%s.nextApproverIds must be an array of user ids", field)
		}
		for _, id := range ids {
			if !sfid.Valid(id) {
				return faults.New(faults.InvalidInput, "%s.nextApproverIds holds %s, not a Salesforce id", field, quote(id))
			}
		}
	}
	return nil
}
