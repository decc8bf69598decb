package sforg_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sfconnect/connector/sforg"
)

func TestFaults(t *testing.T) {
	createPath := "/services/data/v45.0/sobjects/Account/"
	tests := []struct {
		name       string
		fault      sforg.Fault
		method     string
		path       string
		body       any
		wantStatus int    // 0: the connection is dropped
		wantBody   string // exact JSON (compared as JSON) or a substring for HTML
		wantType   string // Content-Type prefix
		wantRows   int    // live Accounts afterwards
	}{
		{"503 JSON", sforg.Fault{Route: sforg.RouteCreate, Kind: sforg.FaultStatus, Status: 503}, "POST", createPath, map[string]any{"Name": "x"},
			503, `[{"errorCode":"SERVER_UNAVAILABLE","message":"Server too busy"}]`, "application/json", 0},
		{"503 HTML", sforg.Fault{Route: "*", Kind: sforg.FaultStatus, Status: 503, HTML: true}, "POST", createPath, map[string]any{"Name": "x"},
			503, "Service Not Available", "text/html", 0},
		{"500", sforg.Fault{Route: sforg.RouteCreate, Kind: sforg.FaultStatus, Status: 500}, "POST", createPath, map[string]any{"Name": "x"},
			500, "", "application/json", 0},
		{"502 HTML", sforg.Fault{Route: sforg.RouteCreate, Kind: sforg.FaultStatus, Status: 502, HTML: true}, "POST", createPath, map[string]any{"Name": "x"},
			502, "Service Not Available", "text/html", 0},
		{"lock row", sforg.Fault{Route: sforg.RouteCreate, Kind: sforg.FaultStatus, Status: 400, ErrorCode: "UNABLE_TO_LOCK_ROW", Message: "unable to obtain exclusive access to this record"}, "POST", createPath, map[string]any{"Name": "x"},
			400, `[{"errorCode":"UNABLE_TO_LOCK_ROW","message":"unable to obtain exclusive access to this record"}]`, "application/json", 0},
		{"limit exceeded", sforg.Fault{Route: "query", Kind: sforg.FaultLimitExceeded}, "GET", "/services/data/v45.0/query?q=SELECT+Id+FROM+Account", nil,
			403, `[{"errorCode":"REQUEST_LIMIT_EXCEEDED","message":"TotalRequests Limit exceeded."}]`, "application/json", 0},
		{"drop before", sforg.Fault{Route: sforg.RouteCreate, Kind: sforg.FaultDropBefore}, "POST", createPath, map[string]any{"Name": "x"},
			0, "", "", 0},
		{"drop after commit", sforg.Fault{Route: sforg.RouteCreate, Kind: sforg.FaultDropAfter}, "POST", createPath, map[string]any{"Name": "x"},
			0, "", "", 1},
		{"other route untouched", sforg.Fault{Route: sforg.RouteGet, Kind: sforg.FaultStatus, Status: 503}, "POST", createPath, map[string]any{"Name": "x"},
			201, "", "application/json", 1},
		{"login failure does not touch REST", sforg.Fault{Route: "*", Kind: sforg.FaultLoginFailure}, "POST", createPath, map[string]any{"Name": "x"},
			201, "", "application/json", 1},
		{"latency", sforg.Fault{Route: sforg.RouteCreate, Kind: sforg.FaultLatency, Delay: 20 * time.Millisecond}, "POST", createPath, map[string]any{"Name": "x"},
			201, "", "application/json", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrg(t, sforg.Options{})
			tt.fault.Times = 1
			if err := o.Inject(tt.fault); err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequestWithContext(t.Context(), tt.method, o.URL+tt.path, nil)
			if tt.body != nil {
				data, _ := json.Marshal(tt.body)
				req, _ = http.NewRequestWithContext(t.Context(), tt.method, o.URL+tt.path, strings.NewReader(string(data)))
			}
			req.Header.Set("Authorization", "Bearer "+o.token)
			res, err := http.DefaultClient.Do(req)
			if tt.wantStatus == 0 {
				if err == nil {
					res.Body.Close()
					t.Fatalf("got status %d, want a dropped connection", res.StatusCode)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				data, _ := io.ReadAll(res.Body)
				body := string(data)
				if res.StatusCode != tt.wantStatus {
					t.Fatalf("status: got %d %s, want %d", res.StatusCode, body, tt.wantStatus)
				}
				if !strings.HasPrefix(res.Header.Get("Content-Type"), tt.wantType) {
					t.Errorf("Content-Type: got %q, want %s", res.Header.Get("Content-Type"), tt.wantType)
				}
				if strings.HasPrefix(tt.wantBody, "[") {
					var got, want any
					json.Unmarshal([]byte(body), &got)
					json.Unmarshal([]byte(tt.wantBody), &want)
					if !jsonEqual(got, want) {
						t.Errorf("body: got %s, want %s", body, tt.wantBody)
					}
				} else if !strings.Contains(body, tt.wantBody) {
					t.Errorf("body: got %s, want it to contain %q", body, tt.wantBody)
				}
			}
			if got := o.Store().Count("Account"); got != tt.wantRows {
				t.Errorf("accounts: got %d, want %d", got, tt.wantRows)
			}
			if tt.fault.Kind != sforg.FaultLoginFailure && tt.name != "other route untouched" && len(o.Faults()) != 0 {
				t.Errorf("fault not used up: %+v", o.Faults())
			}
			// The org answers normally afterwards.
			o.ClearFaults()
			if res := o.do(t, http.MethodGet, "/services/data/v45.0/limits", nil); res.status != http.StatusOK {
				t.Errorf("after the fault: got %d", res.status)
			}
		})
	}
}

func TestFaultTimesAndScope(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	path := "/services/data/v45.0/sobjects/Account/"
	if err := o.Inject(sforg.Fault{Route: sforg.RouteDescribeGlobal, Kind: sforg.FaultStatus, Status: 503, Times: 2}); err != nil {
		t.Fatal(err)
	}
	want := []int{503, 503, 200}
	for i, w := range want {
		if res := o.do(t, http.MethodGet, "/services/data/v45.0/sobjects/", nil); res.status != w {
			t.Errorf("request %d: got %d, want %d", i+1, res.status, w)
		}
	}
	if err := o.Inject(sforg.Fault{Route: sforg.RouteSObjectInfo, Kind: sforg.FaultStatus, Status: 503}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if res := o.do(t, http.MethodGet, path, nil); res.status != 503 {
			t.Errorf("until cleared, request %d: got %d", i+1, res.status)
		}
	}
	o.ClearFaults()
	if res := o.do(t, http.MethodGet, path, nil); res.status != 200 {
		t.Errorf("after ClearFaults: got %d", res.status)
	}
	if got := o.Requests(sforg.RouteSObjectInfo); got != 4 {
		t.Errorf("requests counted: got %d, want 4 (faulted ones included)", got)
	}
	for _, bad := range []sforg.Fault{{Kind: "nope"}, {Kind: sforg.FaultStatus, Status: 200}, {Kind: sforg.FaultLatency, Times: -1}} {
		if err := o.Inject(bad); err == nil {
			t.Errorf("Inject(%+v): got nil error", bad)
		}
	}
}

func TestSessionExpiredFault(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	if err := o.Inject(sforg.Fault{Route: sforg.RouteLimits, Kind: sforg.FaultSessionExpired, Times: 1}); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		res := o.do(t, http.MethodGet, "/services/data/v45.0/limits", nil)
		if res.status != 401 || res.errorCode(t) != "INVALID_SESSION_ID" {
			t.Fatalf("request %d: got %d %s, want 401 (the session ended)", i+1, res.status, res.body)
		}
	}
	o.token = login(t, o.Server)
	if res := o.do(t, http.MethodGet, "/services/data/v45.0/limits", nil); res.status != 200 {
		t.Errorf("after a new login: got %d", res.status)
	}
}

func TestLoginFaults(t *testing.T) {
	s := startOrg(t, sforg.Options{})
	if err := s.Inject(sforg.Fault{Route: "*", Kind: sforg.FaultLoginFailure, Times: 2}); err != nil {
		t.Fatal(err)
	}
	res := postForm(t, s, passwordForm(s), "", "")
	if res.status != 400 || !strings.Contains(string(res.body), `"error":"invalid_grant"`) {
		t.Errorf("token: got %d %s, want 400 invalid_grant", res.status, res.body)
	}
	soap, env := soapLogin(t, s.URL+"/services/Soap/u/45.0", "urn:partner.soap.sforce.com", sforg.DefaultUsername, sforg.DefaultPassword+sforg.DefaultSecurityToken)
	if soap.status != 500 || env.Body.Fault == nil || env.Body.Fault.FaultCode != "sf:INVALID_LOGIN" {
		t.Errorf("soap: got %d %+v, want INVALID_LOGIN", soap.status, env.Body.Fault)
	}
	if s.Logins() != 0 || s.Requests(sforg.RouteToken) != 1 || s.Requests(sforg.RouteSOAPLogin) != 1 {
		t.Errorf("counters: got %v", s.Counters())
	}
	login(t, s)
	if s.Logins() != 1 {
		t.Errorf("logins after the faults: got %d, want 1", s.Logins())
	}

	if err := s.Inject(sforg.Fault{Route: sforg.RouteSOAPLogin, Kind: sforg.FaultStatus, Status: 503, Times: 1}); err != nil {
		t.Fatal(err)
	}
	soap, env = soapLogin(t, s.URL+"/services/Soap/u/45.0", "urn:partner.soap.sforce.com", sforg.DefaultUsername, "x")
	if soap.status != 503 || env.Body.Fault == nil || env.Body.Fault.FaultCode != "sf:SERVER_UNAVAILABLE" {
		t.Errorf("soap 503: got %d %+v", soap.status, env.Body.Fault)
	}
	if err := s.Inject(sforg.Fault{Route: sforg.RouteToken, Kind: sforg.FaultStatus, Status: 503, Times: 1}); err != nil {
		t.Fatal(err)
	}
	res = postForm(t, s, passwordForm(s), "", "")
	var e map[string]string
	if res.status != 503 || json.Unmarshal(res.body, &e) != nil || e["error"] == "" {
		t.Errorf("token 503: got %d %s, want an OAuth error object", res.status, res.body)
	}

	// Session and limit faults pass over the login routes.
	for _, kind := range []sforg.FaultKind{sforg.FaultSessionExpired, sforg.FaultLimitExceeded} {
		if err := s.Inject(sforg.Fault{Route: "*", Kind: kind, Times: 1}); err != nil {
			t.Fatal(err)
		}
		token := login(t, s)
		if _, env := soapLogin(t, s.URL+"/services/Soap/u/45.0", "urn:partner.soap.sforce.com", sforg.DefaultUsername, sforg.DefaultPassword+sforg.DefaultSecurityToken); env.Body.LoginResponse == nil {
			t.Errorf("%s: SOAP login faulted", kind)
		}
		if res := send(t, http.MethodGet, s.URL+"/services/data/v45.0/limits", token, nil); res.status < 400 {
			t.Errorf("%s: REST call got %d, want the fault", kind, res.status)
		}
	}
}

func TestConcurrentControlPlane(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			id := o.Store().UserID()
			for range 5 {
				send(t, http.MethodPost, o.URL+"/services/data/v45.0/sobjects/Account/", o.token, map[string]any{"Name": fmt.Sprintf("A%d", i)})
				send(t, http.MethodGet, o.URL+"/services/data/v45.0/sobjects/User/"+id, o.token, nil)
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			o.Inject(sforg.Fault{Route: sforg.RouteGet, Kind: sforg.FaultStatus, Status: 503, Times: 1}) //nolint:errcheck // valid fault
			o.Counters()
			o.Faults()
			o.SetDailyLimit(100000)
		}
		o.ClearFaults()
	})
	wg.Wait()
	if got := o.Store().Count("Account"); got != 100 {
		t.Errorf("accounts: got %d, want 100", got)
	}
	if got := o.Requests(sforg.RouteCreate) + o.Requests(sforg.RouteGet); got != 200 {
		t.Errorf("requests: got %d, want 200", got)
	}
}

func TestLatencyOutlastsClientTimeout(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	if err := o.Inject(sforg.Fault{Route: sforg.RouteGet, Kind: sforg.FaultLatency, Delay: time.Minute, Times: 1}); err != nil {
		t.Fatal(err)
	}
	id := o.create(t, "Account", map[string]any{"Name": "Slow"})
	client := &http.Client{Timeout: 100 * time.Millisecond}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, o.URL+"/services/data/v45.0/sobjects/Account/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+o.token)
	if res, err := client.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("got status %d, want a client timeout", res.StatusCode)
	}
	if res := o.do(t, http.MethodGet, "/services/data/v45.0/sobjects/Account/"+id, nil); res.status != 200 {
		t.Errorf("next request: got %d", res.status)
	}
}

func TestAdminEndpoints(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	admin := func(method, path string, body any) response {
		t.Helper()
		return send(t, method, o.URL+"/__sforg/"+path, "", body)
	}
	if res := admin("POST", "faults", `{"route":"sobject-get","kind":"status","status":503,"html":true,"times":2}`); res.status != 201 {
		t.Fatalf("inject: got %d %s", res.status, res.body)
	}
	if res := admin("POST", "faults", `{"route":"limits","kind":"latency","delay":"1ms"}`); res.status != 201 {
		t.Fatalf("inject latency: got %d %s", res.status, res.body)
	}
	if res := admin("POST", "faults", `{"kind":"explode"}`); res.status != 400 {
		t.Errorf("bad fault: got %d", res.status)
	}
	var faults []map[string]any
	admin("GET", "faults", nil).json(t, &faults)
	if len(faults) != 2 || faults[0]["route"] != "sobject-get" || faults[0]["times"] != 2.0 || faults[1]["delay"] != "1ms" {
		t.Errorf("faults: got %v", faults)
	}
	if res := admin("DELETE", "faults", nil); res.status != 204 || len(o.Faults()) != 0 {
		t.Errorf("clear: got %d, %d faults left", res.status, len(o.Faults()))
	}

	o.do(t, http.MethodGet, "/services/data/v45.0/limits", nil)
	var counters map[string]int
	admin("GET", "counters", nil).json(t, &counters)
	if counters["requests.limits"] != 1 || counters["logins"] != 1 || counters["logins.password"] != 1 || counters["api-usage"] != 1 {
		t.Errorf("counters: got %v", counters)
	}

	if res := admin("PUT", "limit", `{"dailyLimit":1}`); res.status != 204 {
		t.Fatalf("limit: got %d", res.status)
	}
	if res := o.do(t, http.MethodGet, "/services/data/v45.0/limits", nil); res.status != 403 {
		t.Errorf("after limit 1: got %d, want 403", res.status)
	}

	var ids map[string][]string
	res := admin("POST", "seed", `{"Account":[{"Name":"Seeded"}],"Contact":[{"LastName":"Doe"},{"LastName":"Roe"}]}`)
	res.json(t, &ids)
	if res.status != 201 || len(ids["Account"]) != 1 || len(ids["Contact"]) != 2 {
		t.Fatalf("seed: got %d %s", res.status, res.body)
	}
	if res := admin("POST", "seed", `{"Account":[{"Nope":1}]}`); res.status != 400 {
		t.Errorf("bad seed: got %d %s", res.status, res.body)
	}

	if res := admin("POST", "sessions/expire", nil); res.status != 204 {
		t.Fatalf("expire: got %d", res.status)
	}
	if res := o.do(t, http.MethodGet, "/services/data/v45.0/limits", nil); res.status != 401 {
		t.Errorf("after expire: got %d, want 401", res.status)
	}

	o.token = login(t, o.Server)
	if res := admin("POST", "reset", nil); res.status != 204 {
		t.Fatalf("reset: got %d %s", res.status, res.body)
	}
	if res := o.do(t, http.MethodGet, "/services/data/v45.0/limits", nil); res.status != 401 {
		t.Errorf("session after reset: got %d, want 401", res.status)
	}
	admin("GET", "counters", nil).json(t, &counters)
	if counters["logins"] != 0 || counters["api-usage"] != 0 || counters["api-limit"] != 15000 {
		t.Errorf("counters after reset: got %v", counters)
	}
	if got := o.Store().FindBy("Account", "Name", "Seeded"); len(got) != 1 || got[0] != ids["Account"][0] {
		t.Errorf("seeded account after reset: got %v, want the same id %v", got, ids["Account"])
	}
}

func TestResetRestoresTheSeed(t *testing.T) {
	o := newOrg(t, sforg.Options{})
	user := o.Store().UserID()
	seeded, err := o.LoadSeed(strings.NewReader(`{"Account":[{"Name":"Keep"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	o.create(t, "Account", map[string]any{"Name": "Drop"})
	defineInvoice(t, o.Server)
	definitions := o.Store().Count("ProcessDefinition")
	if err := o.Inject(sforg.Fault{Kind: sforg.FaultStatus, Status: 503}); err != nil {
		t.Fatal(err)
	}
	if err := o.Reset(); err != nil {
		t.Fatal(err)
	}
	st := o.Store()
	if st.UserID() != user {
		t.Errorf("integration user: got %q, want %q", st.UserID(), user)
	}
	if got := st.FindBy("Account", "Name", "Keep"); len(got) != 1 || got[0] != seeded["Account"][0] {
		t.Errorf("seed: got %v, want %v", got, seeded["Account"])
	}
	if got := st.FindBy("Account", "Name", "Drop"); len(got) != 0 {
		t.Errorf("record made after the seed survived: %v", got)
	}
	if _, ok := st.Object("Invoice__c"); ok {
		t.Error("custom object defined after the seed survived")
	}
	if got := st.Count("ProcessDefinition"); got != definitions {
		t.Errorf("approval process definitions: got %d, want %d", got, definitions)
	}
	if len(o.Faults()) != 0 || o.Logins() != 0 || o.Requests("*") != 0 {
		t.Errorf("control plane not reset: faults %v counters %v", o.Faults(), o.Counters())
	}
}

func TestSeedFile(t *testing.T) {
	path := t.TempDir() + "/seed.json"
	if err := writeFile(path, `{"Lead":[{"LastName":"Hopper","Company":"Navy"}],"Account":[{"Name":"A"},{"Name":"B"}]}`); err != nil {
		t.Fatal(err)
	}
	s := startOrg(t, sforg.Options{SeedFile: path})
	if s.Store().Count("Account") != 2 || s.Store().Count("Lead") != 1 {
		t.Errorf("seeded: %d accounts, %d leads", s.Store().Count("Account"), s.Store().Count("Lead"))
	}
	if err := writeFile(path, `{"Lead":[{"Company":"no last name"}]}`); err != nil {
		t.Fatal(err)
	}
	if _, err := sforg.Start(sforg.Options{SeedFile: path}); err == nil || !strings.Contains(err.Error(), "REQUIRED_FIELD_MISSING") {
		t.Errorf("invalid seed: got %v, want REQUIRED_FIELD_MISSING", err)
	}
}

func writeFile(path, data string) error { return os.WriteFile(path, []byte(data), 0o600) }
