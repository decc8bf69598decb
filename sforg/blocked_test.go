package sforg_test

import (
	"net/http"
	"testing"

	"github.com/sfconnect/connector/sforg"
)

// TestBlockedLogins checks the exact answers of the login policies an org can
// have: the OAuth username-password flow blocked (docs/salesforce-protocol.md
// §1.2) and SOAP login() disabled or asked for at a version without it (§1.5).
func TestBlockedLogins(t *testing.T) {
	t.Run("password flow blocked", func(t *testing.T) {
		tests := []struct {
			name     string
			password string
		}{
			{"right password", sforg.DefaultPassword + sforg.DefaultSecurityToken},
			{"wrong password", "nope"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := startOrg(t, sforg.Options{BlockPasswordFlow: true})
				form := passwordForm(s)
				form.Set("password", tt.password)
				res := postForm(t, s, form, "", "")
				if res.status != http.StatusBadRequest {
					t.Fatalf("status: got %d, want 400", res.status)
				}
				var e map[string]string
				res.json(t, &e)
				if e["error"] != "invalid_grant" || e["error_description"] != "authentication failure" {
					t.Errorf("got %q/%q, want %q/%q", e["error"], e["error_description"], "invalid_grant", "authentication failure")
				}
				if got := res.header.Get("Cache-Control"); got != "no-store" {
					t.Errorf("Cache-Control: got %q, want %q", got, "no-store")
				}
				if s.Logins() != 0 {
					t.Errorf("logins: got %d, want 0", s.Logins())
				}
			})
		}
		t.Run("other flows still work", func(t *testing.T) {
			s := startOrg(t, sforg.Options{BlockPasswordFlow: true})
			res := postForm(t, s, map[string][]string{"grant_type": {"client_credentials"}}, sforg.DefaultClientID, sforg.DefaultClientSecret)
			if res.status != http.StatusOK {
				t.Errorf("client credentials: got %d %s, want 200", res.status, res.body)
			}
		})
	})

	const partner = "urn:partner.soap.sforce.com"
	pass := sforg.DefaultPassword + sforg.DefaultSecurityToken
	tests := []struct {
		name        string
		opts        sforg.Options
		path        string
		pass        string
		wantCode    string
		wantString  string
		wantType    string // the detail element
		wantSession bool
	}{
		{"soap login disabled", sforg.Options{DisableSOAPLogin: true}, "/services/Soap/u/45.0", pass, "sf:INVALID_OPERATION",
			"INVALID_OPERATION: SOAP API login() is disabled by default in this org. Contact the org administrator to enable SOAP API login().", "UnexpectedErrorFault", false},
		{"soap login disabled, enterprise", sforg.Options{DisableSOAPLogin: true}, "/services/Soap/c/64.0", pass, "sf:INVALID_OPERATION",
			"INVALID_OPERATION: SOAP API login() is disabled by default in this org. Contact the org administrator to enable SOAP API login().", "UnexpectedErrorFault", false},
		{"soap login disabled, bad password", sforg.Options{DisableSOAPLogin: true}, "/services/Soap/u/45.0", "nope", "sf:INVALID_LOGIN",
			"INVALID_LOGIN: Invalid username, password, security token; or user locked out.", "LoginFault", false},
		{"version 65.0", sforg.Options{}, "/services/Soap/u/65.0", pass, "sf:INVALID_OPERATION",
			"INVALID_OPERATION: The SOAP Login operation is not available in the API version specified (65.0). Refer to the documentation for supported versions.", "UnexpectedErrorFault", false},
		{"version 66.0, login disabled too", sforg.Options{DisableSOAPLogin: true}, "/services/Soap/c/66.0", pass, "sf:INVALID_OPERATION",
			"INVALID_OPERATION: The SOAP Login operation is not available in the API version specified (66.0). Refer to the documentation for supported versions.", "UnexpectedErrorFault", false},
		{"version after the newest", sforg.Options{}, "/services/Soap/u/67.0", pass, "sf:UNSUPPORTED_API_VERSION",
			"UNSUPPORTED_API_VERSION: Invalid Api version specified on URL", "UnexpectedErrorFault", false},
		{"login enabled", sforg.Options{}, "/services/Soap/u/64.0", pass, "", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startOrg(t, tt.opts)
			res, env := soapLogin(t, s.URL+tt.path, partner, sforg.DefaultUsername, tt.pass)
			if tt.wantSession {
				if res.status != http.StatusOK || env.Body.LoginResponse == nil || env.Body.LoginResponse.Result.SessionID == "" {
					t.Fatalf("got %d %+v, want 200 with a session", res.status, env.Body.Fault)
				}
				return
			}
			f := env.Body.Fault
			if res.status != http.StatusInternalServerError || f == nil {
				t.Fatalf("got %d, want 500 with a fault", res.status)
			}
			if f.FaultCode != tt.wantCode || f.FaultString != tt.wantString {
				t.Errorf("fault: got %q %q, want %q %q", f.FaultCode, f.FaultString, tt.wantCode, tt.wantString)
			}
			if f.Detail.Inner.XMLName.Local != tt.wantType || "sf:"+f.Detail.Inner.ExceptionCode != tt.wantCode {
				t.Errorf("detail: got %q %q, want %q %q", f.Detail.Inner.XMLName.Local, f.Detail.Inner.ExceptionCode, tt.wantType, tt.wantCode)
			}
			if s.Logins() != 0 {
				t.Errorf("logins: got %d, want 0", s.Logins())
			}
		})
	}
}
