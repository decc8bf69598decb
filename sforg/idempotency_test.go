package sforg_test

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sfconnect/connector/internal/testclock"
	"github.com/sfconnect/connector/sforg"
)

// Keys of the tests: version 4 UUIDs, and one of version 1.
const (
	keyA  = "2f0c1a9e-7b7d-4c1e-9b1e-5a0d3f6e8c21"
	keyB  = "8e03978e-40d5-43e8-bc93-6894a57f9324"
	keyV1 = "c232ab00-9414-11ec-b3c8-9f68deced846"
)

func newAccount(name string) map[string]any {
	return map[string]any{"apiName": "Account", "fields": map[string]any{"Name": name}}
}

// freshClient sends each request on a connection of its own. Go's transport
// resends a request that carries an Idempotency-Key when a reused connection
// drops, which would hide a dropped connection from the test.
func freshClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
}

func TestIdempotentWritesReplay(t *testing.T) {
	clock := testclock.New(time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC))
	o := newOrg(t, sforg.Options{Now: clock.Now})
	records := uiV + "/ui-api/records"

	first := o.ui(t, "POST", records, keyA, newAccount("Acme"))
	if first.status != http.StatusCreated {
		t.Fatalf("create: got %d %s", first.status, first.body)
	}
	clock.Advance(time.Second)
	again := o.ui(t, "POST", records, keyA, newAccount("Acme"))
	if again.status != first.status || !bytes.Equal(again.body, first.body) || again.header.Get("Content-Type") != first.header.Get("Content-Type") {
		t.Fatalf("resent create: got %d %s, want the stored %d %s", again.status, again.body, first.status, first.body)
	}
	if got := o.Store().Count("Account"); got != 1 {
		t.Fatalf("accounts: got %d, want 1", got)
	}
	if got, want := again.header.Get("Sforce-Limit-Info"), "api-usage=2/15000"; got != want {
		t.Errorf("Sforce-Limit-Info of the replay: got %q, want the current %q", got, want)
	}
	// The key is case-insensitive, as a UUID is; keys are kept per resource
	// and request: a new key is a new create.
	if res := o.ui(t, "POST", records, strings.ToUpper(keyA), newAccount("Acme")); !bytes.Equal(res.body, first.body) {
		t.Errorf("upper-case key: got %d %s, want the stored answer", res.status, res.body)
	}
	if res := o.ui(t, "POST", records, keyB, newAccount("Acme")); res.status != http.StatusCreated || o.Store().Count("Account") != 2 {
		t.Fatalf("new key: got %d, %d accounts, want 201 and 2", res.status, o.Store().Count("Account"))
	}

	id := first.record(t).ID
	record := uiV + "/ui-api/records/" + id
	const updateKey = "0b9e2c55-9a3f-4f57-8a2e-3f1d2c4b5a69"
	updated := o.ui(t, "PATCH", record, updateKey, map[string]any{"fields": map[string]any{"Name": "Acme 2"}})
	if updated.status != http.StatusOK {
		t.Fatalf("update: got %d %s", updated.status, updated.body)
	}
	clock.Advance(time.Minute)
	if res := o.ui(t, "PATCH", record, updateKey, map[string]any{"fields": map[string]any{"Name": "Acme 2"}}); res.status != http.StatusOK || !bytes.Equal(res.body, updated.body) {
		t.Errorf("resent update: got %d %s, want the stored answer", res.status, res.body)
	}
	if got := o.ui(t, "GET", record+"?fields=Account.Name", "", nil).record(t).LastModifiedDate; got != "2026-05-01T08:00:01.000Z" {
		t.Errorf("lastModifiedDate: got %q, want the first update's (the resend did not run)", got)
	}

	const deleteKey = "7d444840-9dc0-41c7-b0d9-4e5c0bd8a2f1"
	for i := range 2 {
		if res := o.ui(t, "DELETE", record, deleteKey, nil); res.status != http.StatusNoContent {
			t.Errorf("delete %d: got %d %s, want 204 (the second replayed, not ENTITY_IS_DELETED)", i+1, res.status, res.body)
		}
	}
	if res := o.ui(t, "DELETE", record, "", nil); res.status != http.StatusNotFound {
		t.Errorf("delete without the key: got %d, want 404", res.status)
	}
}

func TestIdempotencyKeyMisuse(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	records := uiV + "/ui-api/records"
	if res := o.ui(t, "POST", records, keyA, newAccount("Acme")); res.status != http.StatusCreated {
		t.Fatalf("create: got %d %s", res.status, res.body)
	}
	other := o.create(t, "Account", map[string]any{"Name": "Other"})
	tests := []struct {
		name       string
		method     string
		path       string
		keys       []string
		body       any
		wantStatus int
		wantCode   string // "" when the request runs or replays
	}{
		{"not a UUID", "POST", records, []string{"order-42"}, newAccount("x"), 400, "INVALID_IDEMPOTENCY_KEY"},
		{"a UUID in quotes", "POST", records, []string{`"` + keyB + `"`}, newAccount("x"), 400, "INVALID_IDEMPOTENCY_KEY"},
		{"empty", "POST", records, []string{""}, newAccount("x"), 400, "INVALID_IDEMPOTENCY_KEY"},
		{"two keys", "POST", records, []string{keyB, keyB}, newAccount("x"), 400, "INVALID_IDEMPOTENCY_KEY"},
		{"same key, other body", "POST", records, []string{keyA}, newAccount("Not Acme"), 422, "IDEMPOTENCY_KEY_REUSED"},
		{"same key, other resource", "PATCH", uiV + "/ui-api/records/" + other, []string{keyA}, newAccount("Acme"), 422, "IDEMPOTENCY_KEY_REUSED"},
		{"same key, same body in another key order and spacing", "POST", records, []string{keyA}, `{ "fields" : {"Name":"Acme"}, "apiName":"Account" }`, 201, ""},
		{"same key, same body at another version", "POST", "/services/data/v58.0/ui-api/records", []string{keyA}, newAccount("Acme"), 201, ""},
		{"a version 1 UUID", "POST", records, []string{keyV1}, newAccount("V1"), 201, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := o.Store().Count("Account")
			res := sendHeader(t, tt.method, o.URL+tt.path, o.token, http.Header{"Idempotency-Key": tt.keys}, tt.body)
			if res.status != tt.wantStatus {
				t.Fatalf("got %d %s, want %d", res.status, res.body, tt.wantStatus)
			}
			if tt.wantCode != "" {
				if got := res.errorCode(t); got != tt.wantCode {
					t.Errorf("errorCode: got %q, want %q", got, tt.wantCode)
				}
				if got := o.Store().Count("Account"); got != before {
					t.Errorf("accounts: got %d, want %d (nothing written)", got, before)
				}
			}
		})
	}
	if got := o.Store().Count("Account"); got != 3 {
		t.Errorf("accounts: got %d, want 3 (Acme, Other, V1)", got)
	}
}

func TestIdempotencyOptions(t *testing.T) {
	o := newOrg(t, sforg.Options{Idempotency: sforg.IdempotencyOptions{MalformedStatus: 422, MismatchStatus: 409, RequireUUIDv4: true}})
	records := uiV + "/ui-api/records"
	tests := []struct {
		name       string
		key        string
		body       any
		wantStatus int
	}{
		{"first", keyA, newAccount("Acme"), 201},
		{"other body: MismatchStatus", keyA, newAccount("Other"), 409},
		{"not a UUID: MalformedStatus", "nope", newAccount("x"), 422},
		{"version 1 UUID refused under RequireUUIDv4", keyV1, newAccount("x"), 422},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if res := o.ui(t, "POST", records, tt.key, tt.body); res.status != tt.wantStatus {
				t.Errorf("got %d %s, want %d", res.status, res.body, tt.wantStatus)
			}
		})
	}
}

func TestIdempotencyConcurrentRequestsWriteOnce(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	const n = 20
	results := make([]response, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			res, err := trySend(t, http.DefaultClient, "POST", o.URL+uiV+"/ui-api/records", o.token, http.Header{"Idempotency-Key": {keyA}}, newAccount("Acme"))
			if err != nil {
				t.Errorf("request %d: %v", i, err)
			}
			results[i] = res
		})
	}
	wg.Wait()
	if got := o.Store().Count("Account"); got != 1 {
		t.Fatalf("accounts: got %d, want exactly 1", got)
	}
	id := o.Store().FindBy("Account", "Name", "Acme")[0]
	created := 0
	for i, res := range results {
		switch res.status {
		case http.StatusCreated:
			created++
			if got := res.record(t).ID; got != id {
				t.Errorf("request %d: got id %q, want %q", i, got, id)
			}
		case http.StatusConflict:
			if got := res.errorCode(t); got != "IDEMPOTENT_REQUEST_IN_PROGRESS" {
				t.Errorf("request %d: got %q, want IDEMPOTENT_REQUEST_IN_PROGRESS", i, got)
			}
		default:
			t.Errorf("request %d: got %d %s, want 201 or 409", i, res.status, res.body)
		}
	}
	if created == 0 {
		t.Error("no request got the 201")
	}
}

func TestIdempotencyKeyInFlight(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	reserved, release := make(chan struct{}), make(chan struct{})
	var held atomic.Bool
	sforg.SetIdempotencyHook(o.Server, func() {
		if held.CompareAndSwap(false, true) { // hold the first write only
			close(reserved)
			<-release
		}
	})
	records := uiV + "/ui-api/records"
	firstDone := make(chan response)
	go func() {
		res, err := trySend(t, http.DefaultClient, "POST", o.URL+records, o.token, http.Header{"Idempotency-Key": {keyA}}, newAccount("Acme"))
		if err != nil {
			t.Errorf("first request: %v", err)
		}
		firstDone <- res
	}()
	<-reserved
	if res := o.ui(t, "POST", records, keyA, newAccount("Acme")); res.status != http.StatusConflict || res.errorCode(t) != "IDEMPOTENT_REQUEST_IN_PROGRESS" {
		t.Errorf("while the first runs: got %d %s, want 409 IDEMPOTENT_REQUEST_IN_PROGRESS", res.status, res.body)
	}
	if res := o.ui(t, "POST", records, keyA, newAccount("Other")); res.status != http.StatusUnprocessableEntity {
		t.Errorf("other body while the first runs: got %d %s, want 422", res.status, res.body)
	}
	close(release)
	first := <-firstDone
	if first.status != http.StatusCreated {
		t.Fatalf("first: got %d %s", first.status, first.body)
	}
	if res := o.ui(t, "POST", records, keyA, newAccount("Acme")); !bytes.Equal(res.body, first.body) {
		t.Errorf("after the first: got %d %s, want the stored answer", res.status, res.body)
	}
	if got := o.Store().Count("Account"); got != 1 {
		t.Errorf("accounts: got %d, want 1", got)
	}
}

func TestIdempotencyKeyExpiresAfter30Days(t *testing.T) {
	clock := testclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	o := newOrg(t, sforg.Options{Now: clock.Now})
	records := uiV + "/ui-api/records"
	first := o.ui(t, "POST", records, keyA, newAccount("Acme"))
	if first.status != http.StatusCreated {
		t.Fatalf("create: got %d %s", first.status, first.body)
	}
	clock.Advance(30*24*time.Hour - time.Millisecond)
	o.token = login(t, o.Server) // sessions end after 2 hours
	if res := o.ui(t, "POST", records, keyA, newAccount("Acme")); !bytes.Equal(res.body, first.body) {
		t.Errorf("a millisecond before 30 days: got %d %s, want the stored answer", res.status, res.body)
	}
	clock.Advance(time.Millisecond)
	res := o.ui(t, "POST", records, keyA, newAccount("Acme"))
	if res.status != http.StatusCreated || res.record(t).ID == first.record(t).ID {
		t.Errorf("after 30 days: got %d %s, want a new record", res.status, res.body)
	}
	if got := o.Store().Count("Account"); got != 2 {
		t.Errorf("accounts: got %d, want 2 (the expired key is new again)", got)
	}
	if again := o.ui(t, "POST", records, keyA, newAccount("Acme")); !bytes.Equal(again.body, res.body) {
		t.Errorf("the renewed key: got %d %s, want its new stored answer", again.status, again.body)
	}
}

func TestIdempotencyOversizeAnswerNotStored(t *testing.T) {
	// The size of this org's answer to the create, measured without a key.
	probe := newOrg(t, sforg.Options{})
	size := len(probe.ui(t, "POST", uiV+"/ui-api/records", "", newAccount("Acme")).body)
	tests := []struct {
		name      string
		limit     int
		wantCount int
	}{
		{"answer one byte over the limit: not stored, the resend duplicates", size - 1, 2},
		{"answer at the limit: stored", size, 1},
		{"default limit (9 MB): stored", 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrg(t, sforg.Options{Idempotency: sforg.IdempotencyOptions{MaxResponseBytes: tt.limit}})
			for i := range 2 {
				if res := o.ui(t, "POST", uiV+"/ui-api/records", keyA, newAccount("Acme")); res.status != http.StatusCreated || len(res.body) != size {
					t.Fatalf("request %d: got %d with %d bytes, want 201 with %d", i+1, res.status, len(res.body), size)
				}
			}
			if got := o.Store().Count("Account"); got != tt.wantCount {
				t.Errorf("accounts: got %d, want %d", got, tt.wantCount)
			}
		})
	}
}

func TestIdempotencyKeysArePerUser(t *testing.T) {
	second := sforg.LoginUser{Username: "second@sforg.local", Password: "second-password"}
	o := newOrg(t, sforg.Options{Users: []sforg.LoginUser{second}})
	token, _ := loginAs(t, o.Server, second)
	records := uiV + "/ui-api/records"
	mine := o.ui(t, "POST", records, keyA, newAccount("Acme"))
	theirs := sendHeader(t, "POST", o.URL+records, token, http.Header{"Idempotency-Key": {keyA}}, newAccount("Acme"))
	if mine.status != http.StatusCreated || theirs.status != http.StatusCreated {
		t.Fatalf("got %d and %d, want 201 twice", mine.status, theirs.status)
	}
	if a, b := mine.record(t), theirs.record(t); a.ID == b.ID || a.LastModifiedByID == b.LastModifiedByID {
		t.Errorf("the second user's request replayed the first's: ids %s %s, users %s %s", a.ID, b.ID, a.LastModifiedByID, b.LastModifiedByID)
	}
	if again := o.ui(t, "POST", records, keyA, newAccount("Acme")); !bytes.Equal(again.body, mine.body) {
		t.Errorf("first user again: got %s, want its own stored answer", again.body)
	}
	if got := o.Store().Count("Account"); got != 2 {
		t.Errorf("accounts: got %d, want 2", got)
	}
}

func TestIdempotencyAndFaults(t *testing.T) {
	tests := []struct {
		name      string
		fault     sforg.Fault
		wantFirst int // status of the first request; 0: the connection drops
		wantAfter int // accounts after the first request
	}{
		{"drop before the work: nothing happened", sforg.Fault{Route: sforg.RouteUIRecordCreate, Kind: sforg.FaultDropBefore}, 0, 0},
		{"drop after commit: the answer is stored", sforg.Fault{Route: sforg.RouteUIRecordCreate, Kind: sforg.FaultDropAfter}, 0, 1},
		{"503 before the work", sforg.Fault{Route: sforg.RouteUIRecordCreate, Kind: sforg.FaultStatus, Status: 503}, 503, 0},
		{"500 on every route", sforg.Fault{Route: "*", Kind: sforg.FaultStatus, Status: 500}, 500, 0},
		{"latency", sforg.Fault{Route: sforg.RouteUIRecordCreate, Kind: sforg.FaultLatency, Delay: time.Millisecond}, 201, 1},
		{"session expired: the 401 does not consume the key", sforg.Fault{Route: sforg.RouteUIRecordCreate, Kind: sforg.FaultSessionExpired}, 401, 0},
		{"limit exceeded", sforg.Fault{Route: sforg.RouteUIRecordCreate, Kind: sforg.FaultLimitExceeded}, 403, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrg(t, sforg.Options{})
			tt.fault.Times = 1
			if err := o.Inject(tt.fault); err != nil {
				t.Fatal(err)
			}
			url := o.URL + uiV + "/ui-api/records"
			key := http.Header{"Idempotency-Key": {keyA}}
			first, err := trySend(t, freshClient(), "POST", url, o.token, key, newAccount("Acme"))
			switch {
			case tt.wantFirst == 0 && err == nil:
				t.Fatalf("first: got %d %s, want a dropped connection", first.status, first.body)
			case tt.wantFirst != 0 && (err != nil || first.status != tt.wantFirst):
				t.Fatalf("first: got %d %s (%v), want %d", first.status, first.body, err, tt.wantFirst)
			}
			if got := o.Store().Count("Account"); got != tt.wantAfter {
				t.Fatalf("accounts after the first request: got %d, want %d", got, tt.wantAfter)
			}
			if tt.fault.Kind == sforg.FaultSessionExpired {
				o.token = login(t, o.Server)
			}
			again, err := trySend(t, freshClient(), "POST", url, o.token, key, newAccount("Acme"))
			if err != nil || again.status != http.StatusCreated {
				t.Fatalf("resend: got %d %s (%v), want 201", again.status, again.body, err)
			}
			if got := o.Store().Count("Account"); got != 1 {
				t.Fatalf("accounts after the resend: got %d, want 1", got)
			}
			if got, want := again.record(t).ID, o.Store().FindBy("Account", "Name", "Acme")[0]; got != want {
				t.Errorf("resend answered id %q, want the one record %q", got, want)
			}
			if tt.wantFirst == http.StatusCreated && !bytes.Equal(again.body, first.body) {
				t.Errorf("resend: got %s, want the stored %s", again.body, first.body)
			}
		})
	}
}

func TestIdempotencyDropAfterCommitOnUpdateAndDelete(t *testing.T) {
	clock := testclock.New(time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC))
	o := newOrg(t, sforg.Options{Now: clock.Now})
	id := o.create(t, "Account", map[string]any{"Name": "Acme"})
	record := o.URL + uiV + "/ui-api/records/" + id
	update := map[string]any{"fields": map[string]any{"Name": "Acme 2"}}
	key := http.Header{"Idempotency-Key": {keyA}}

	if err := o.Inject(sforg.Fault{Route: sforg.RouteUIRecordUpdate, Kind: sforg.FaultDropAfter, Times: 1}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	if res, err := trySend(t, freshClient(), "PATCH", record, o.token, key, update); err == nil {
		t.Fatalf("update: got %d, want a dropped connection", res.status)
	}
	clock.Advance(time.Minute)
	res, err := trySend(t, freshClient(), "PATCH", record, o.token, key, update)
	if err != nil || res.status != http.StatusOK {
		t.Fatalf("resent update: got %d %s (%v), want 200", res.status, res.body, err)
	}
	if got := res.record(t).LastModifiedDate; got != "2026-05-01T08:00:01.000Z" {
		t.Errorf("resent update: lastModifiedDate %q, want the committed update's 2026-05-01T08:00:01.000Z (stored, not run again)", got)
	}

	if err := o.Inject(sforg.Fault{Route: sforg.RouteUIRecordDelete, Kind: sforg.FaultDropAfter, Times: 1}); err != nil {
		t.Fatal(err)
	}
	deleteKey := http.Header{"Idempotency-Key": {keyB}}
	if res, err := trySend(t, freshClient(), "DELETE", record, o.token, deleteKey, nil); err == nil {
		t.Fatalf("delete: got %d, want a dropped connection", res.status)
	}
	if got := o.Store().Count("Account"); got != 0 {
		t.Fatalf("accounts after the dropped delete: got %d, want 0 (committed)", got)
	}
	if res, err := trySend(t, freshClient(), "DELETE", record, o.token, deleteKey, nil); err != nil || res.status != http.StatusNoContent {
		t.Errorf("resent delete: got %d %s (%v), want the stored 204", res.status, res.body, err)
	}
}

func TestIdempotencyRefusedWriteDoesNotUseTheKey(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	records := uiV + "/ui-api/records"
	if res := o.ui(t, "POST", records, keyA, map[string]any{"apiName": "Account", "fields": map[string]any{"Phone": "555"}}); res.status != http.StatusBadRequest {
		t.Fatalf("create without Name: got %d %s, want 400", res.status, res.body)
	}
	if res := o.ui(t, "POST", records, keyA, newAccount("Acme")); res.status != http.StatusCreated {
		t.Errorf("corrected resend with the key: got %d %s, want 201", res.status, res.body)
	}
}

func TestIdempotencyByVersion(t *testing.T) {
	tests := []struct {
		version   string
		key       string
		wantCount int
	}{
		{"55.0", keyA, 2},   // before idempotent writes: the header is ignored
		{"55.0", "nope", 2}, // even when it is no UUID
		{"56.0", keyA, 1},
	}
	for _, tt := range tests {
		t.Run(tt.version+" "+tt.key, func(t *testing.T) {
			o := newOrg(t, sforg.Options{})
			for i := range 2 {
				if res := o.ui(t, "POST", "/services/data/v"+tt.version+"/ui-api/records", tt.key, newAccount("Acme")); res.status != http.StatusCreated {
					t.Fatalf("request %d: got %d %s", i+1, res.status, res.body)
				}
			}
			if got := o.Store().Count("Account"); got != tt.wantCount {
				t.Errorf("accounts: got %d, want %d", got, tt.wantCount)
			}
		})
	}
}

func TestResetForgetsIdempotencyKeys(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	records := uiV + "/ui-api/records"
	o.ui(t, "POST", records, keyA, newAccount("Acme"))
	if err := o.Reset(); err != nil {
		t.Fatal(err)
	}
	o.token = login(t, o.Server)
	if res := o.ui(t, "POST", records, keyA, newAccount("Acme")); res.status != http.StatusCreated || o.Store().Count("Account") != 1 {
		t.Errorf("after Reset: got %d and %d accounts, want the create to run again", res.status, o.Store().Count("Account"))
	}
}
