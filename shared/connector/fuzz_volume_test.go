package connector

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/sfconnect/connector/shared/sfid"
)

// FuzzCollectionCall: whatever the event, COLLECTION sends only records of
// SObjectName, each an object whose attributes.type names it, at most 200 of
// them, ids that are ids, and an external id field that stays one segment.
func FuzzCollectionCall(f *testing.F) {
	seedEvents(f)
	for _, s := range []string{
		`{"operation":"update","SObjectName":"Account","salesforcePayload":[{"Id":"001D000000IqhSLIAZ","Name":"x"}]}`,
		`{"operation":"upsert","SObjectName":"Invoice__c","externalIdField":"Ext__c","salesforcePayload":"[{\"Ext__c\":7}]"}`,
		`{"operation":"delete","salesforcePayload":[{"id":"001D000000IqhSL"}],"allOrNone":"true"}`,
		`{"operation":"create","SObjectName":"Account","salesforcePayload":[{"attributes":{"type":"Contact"},"Name":"x"}]}`,
		`{"operation":"create","SObjectName":"Account","salesforcePayload":[{"Name":"a","NAME":"b"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, event []byte) {
		in, err := decode(event)
		if err != nil {
			return
		}
		call, err := in.collectionCall()
		inputError(t, "collection", err)
		if err != nil {
			return
		}
		if n := len(call.records) + len(call.ids); n == 0 || n > maxCollectionRecords {
			t.Fatalf("%d records accepted", n)
		}
		if call.field != "" && !pathSafe(call.field) {
			t.Fatalf("externalIdField %q accepted", call.field)
		}
		for _, id := range call.ids {
			if !sfid.Valid(id) || !pathSafe(id) {
				t.Fatalf("id %q accepted", id)
			}
		}
		for _, rec := range call.records {
			var r struct {
				Attributes struct {
					Type string `json:"type"`
				} `json:"attributes"`
			}
			if err := json.Unmarshal(rec, &r); err != nil || r.Attributes.Type != call.object || !bytes.HasPrefix(rec, []byte(`{"attributes":{"type":`)) {
				t.Fatalf("record %s sent for %q", rec, call.object)
			}
		}
	})
}

// FuzzCompositeRequest: whatever the payload, COMPOSITE sends at most 25
// subrequests whose urls are paths of the org's REST API with no dot segment,
// encoded or not, and no fragment.
func FuzzCompositeRequest(f *testing.F) {
	for _, s := range []string{
		compositeEvent,
		`{"salesforcePayload":{"compositeRequest":[{"method":"GET","url":"/services/data/v45.0/sobjects/Account/%2e%2e","referenceId":"a"}]}}`,
		`{"salesforcePayload":{"compositeRequest":[{"method":"GET","url":"/services/data/v45.0/query/?q=SELECT+Id+FROM+Account","referenceId":"q"}]}}`,
		`{"salesforcePayload":{"compositeRequest":[{"method":"GET","url":"/services/data/v45.0/sobjects/A/x%2F..%2Fy","referenceId":"a"}]}}`,
		`{"salesforcePayload":"{\"compositeRequest\":[{\"method\":\"DELETE\",\"url\":\"/services/data/v45.0/composite/sobjects?ids=001D000000IqhSLIAZ\",\"referenceId\":\"d\"}]}"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, event []byte) {
		in, err := decode(event)
		if err != nil {
			return
		}
		payload, err := in.payload()
		if err != nil {
			return
		}
		req, err := compositeRequest(payload)
		inputError(t, "composite", err)
		if err != nil {
			return
		}
		if n := len(req.CompositeRequest); n == 0 || n > maxSubrequests {
			t.Fatalf("%d subrequests accepted", n)
		}
		for _, sub := range req.CompositeRequest {
			path, _, _ := strings.Cut(sub.URL, "?")
			if !strings.HasPrefix(path, "/services/data/v") || strings.ContainsAny(sub.URL, "#\\ \r\n\t") {
				t.Fatalf("url %q accepted", sub.URL)
			}
			for _, seg := range strings.Split(path, "/")[1:] {
				decoded, err := url.PathUnescape(seg)
				if err != nil {
					t.Fatalf("url %q accepted: segment %q", sub.URL, seg)
				}
				for _, step := range strings.FieldsFunc(decoded, func(r rune) bool { return r == '/' || r == '\\' }) {
					if step == "." || step == ".." {
						t.Fatalf("url %q accepted: dot segment %q", sub.URL, seg)
					}
				}
			}
			for name := range sub.HTTPHeaders {
				if !headerName(name) || strings.EqualFold(name, "Authorization") {
					t.Fatalf("header %q accepted", name)
				}
			}
		}
	})
}
