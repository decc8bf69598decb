package sforg_test

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sfconnect/connector/sforg"
	"github.com/sfconnect/connector/shared/sfid"
)

func TestPasswordLoginMatchesFixture(t *testing.T) {
	s := startOrg(t, sforg.Options{})
	res := postForm(t, s, passwordForm(s), "", "")
	if res.status != http.StatusOK {
		t.Fatalf("got status %d, want 200: %s", res.status, res.body)
	}
	sameKeysAndTypes(t, res.body, fixture(t, "restforce/spec/fixtures/auth_success_response.json"))
	var tok map[string]string
	res.json(t, &tok)
	if tok["token_type"] != "Bearer" {
		t.Errorf("token_type: got %q, want %q", tok["token_type"], "Bearer")
	}
	if tok["instance_url"] != s.URL {
		t.Errorf("instance_url: got %q, want %q", tok["instance_url"], s.URL)
	}
	if !strings.HasPrefix(tok["access_token"], sforg.OrgID[:15]+"!") {
		t.Errorf("access_token %q does not start with the org id and '!'", tok["access_token"])
	}
	parts := strings.Split(tok["id"], "/")
	if len(parts) < 2 || parts[len(parts)-2] != sforg.OrgID || !sfid.Valid(parts[len(parts)-1]) || !strings.HasPrefix(parts[len(parts)-1], "005") {
		t.Errorf("id: got %q, want <url>/id/<org id>/<user id>", tok["id"])
	}
	if ms, err := strconv.ParseInt(tok["issued_at"], 10, 64); err != nil || time.Since(time.UnixMilli(ms)).Abs() > time.Hour {
		t.Errorf("issued_at: got %q, want epoch milliseconds", tok["issued_at"])
	}
	mac := hmac.New(sha256.New, []byte(sforg.DefaultClientSecret))
	mac.Write([]byte(tok["id"] + tok["issued_at"]))
	if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); tok["signature"] != want {
		t.Errorf("signature: got %q, want %q", tok["signature"], want)
	}
	if got := res.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control: got %q, want no-store", got)
	}
	if s.Logins() != 1 || s.Counters()["logins.password"] != 1 {
		t.Errorf("logins: got %d (%v), want 1 password login", s.Logins(), s.Counters())
	}

	var who map[string]any
	idRes := send(t, http.MethodGet, tok["id"], tok["access_token"], nil)
	idRes.json(t, &who)
	if idRes.status != http.StatusOK || who["username"] != sforg.DefaultUsername || who["user_id"] != parts[len(parts)-1] || who["organization_id"] != sforg.OrgID {
		t.Errorf("identity: got %d %v", idRes.status, who)
	}
	if bad := send(t, http.MethodGet, tok["id"], "nope", nil); bad.status != http.StatusForbidden || string(bad.body) != "Bad_OAuth_Token" {
		t.Errorf("identity with a bad token: got %d %q, want 403 Bad_OAuth_Token", bad.status, bad.body)
	}
}

func TestTokenEndpointFailures(t *testing.T) {
	s := startOrg(t, sforg.Options{})
	with := func(k, v string) url.Values {
		f := passwordForm(s)
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	tests := []struct {
		name      string
		form      url.Values
		wantError string
		wantDesc  string
	}{
		{"wrong password", with("password", "nope"), "invalid_grant", "authentication failure"},
		{"password without token", with("password", sforg.DefaultPassword), "invalid_grant", "authentication failure"},
		{"unknown user", with("username", "someone@else.example"), "invalid_grant", "authentication failure"},
		{"unknown client", with("client_id", "nope"), "invalid_client_id", "client identifier invalid"},
		{"missing client", with("client_id", ""), "invalid_client_id", "client identifier invalid"},
		{"wrong secret", with("client_secret", "nope"), "invalid_client", "invalid client credentials"},
		{"missing username", with("username", ""), "invalid_request", "username and password are required"},
		{"unsupported grant", with("grant_type", "authorization_code"), "unsupported_grant_type", "grant type not supported"},
		{"missing grant", with("grant_type", ""), "unsupported_grant_type", "grant type not supported"},
		{"jwt without assertion", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}}, "invalid_request", "assertion is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := postForm(t, s, tt.form, "", "")
			if res.status != http.StatusBadRequest {
				t.Fatalf("status: got %d, want 400", res.status)
			}
			sameKeysAndTypes(t, res.body, fixture(t, "restforce/spec/fixtures/auth_error_response.json"))
			var e map[string]string
			res.json(t, &e)
			if e["error"] != tt.wantError || e["error_description"] != tt.wantDesc {
				t.Errorf("got %q/%q, want %q/%q", e["error"], e["error_description"], tt.wantError, tt.wantDesc)
			}
			if got := res.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control: got %q, want no-store", got)
			}
		})
	}
	if s.Logins() != 0 {
		t.Errorf("logins: got %d, want 0", s.Logins())
	}
	t.Run("GET", func(t *testing.T) {
		res := send(t, http.MethodGet, s.URL+"/services/oauth2/token", "", nil)
		if res.status != http.StatusBadRequest || !strings.Contains(string(res.body), "must use HTTP POST") {
			t.Errorf("got %d %s, want 400 invalid_request must use HTTP POST", res.status, res.body)
		}
	})
}

func TestLoginPolicies(t *testing.T) {
	t.Run("password flow blocked", func(t *testing.T) {
		s := startOrg(t, sforg.Options{BlockPasswordFlow: true})
		res := postForm(t, s, passwordForm(s), "", "")
		if res.status != http.StatusBadRequest || !strings.Contains(string(res.body), `"authentication failure"`) {
			t.Errorf("got %d %s, want 400 invalid_grant authentication failure", res.status, res.body)
		}
	})
	t.Run("no security token needed", func(t *testing.T) {
		s := startOrg(t, sforg.Options{NoSecurityToken: true})
		if got := s.Settings()["SALESFORCE_SECURITY_TOKEN"]; got != "" {
			t.Fatalf("security token: got %q, want empty", got)
		}
		f := passwordForm(s)
		f.Set("password", sforg.DefaultPassword)
		if res := postForm(t, s, f, "", ""); res.status != http.StatusOK {
			t.Errorf("bare password: got %d %s, want 200", res.status, res.body)
		}
	})
}

func TestClientCredentials(t *testing.T) {
	tests := []struct {
		name       string
		opts       sforg.Options
		form       url.Values
		basic      [2]string
		wantStatus int
		wantError  string
	}{
		{"form", sforg.Options{}, url.Values{"client_id": {sforg.DefaultClientID}, "client_secret": {sforg.DefaultClientSecret}}, [2]string{}, 200, ""},
		{"basic auth", sforg.Options{}, url.Values{}, [2]string{sforg.DefaultClientID, sforg.DefaultClientSecret}, 200, ""},
		{"wrong secret", sforg.Options{}, url.Values{"client_id": {sforg.DefaultClientID}, "client_secret": {"x"}}, [2]string{}, 400, "invalid_client"},
		{"wrong basic id", sforg.Options{}, url.Values{}, [2]string{"x", sforg.DefaultClientSecret}, 400, "invalid_client_id"},
		{"disabled", sforg.Options{DisableClientCredentials: true}, url.Values{"client_id": {sforg.DefaultClientID}, "client_secret": {sforg.DefaultClientSecret}}, [2]string{}, 400, "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startOrg(t, tt.opts)
			tt.form.Set("grant_type", "client_credentials")
			res := postForm(t, s, tt.form, tt.basic[0], tt.basic[1])
			if res.status != tt.wantStatus {
				t.Fatalf("status: got %d, want %d: %s", res.status, tt.wantStatus, res.body)
			}
			var body map[string]string
			res.json(t, &body)
			if tt.wantError != "" {
				if body["error"] != tt.wantError {
					t.Errorf("error: got %q, want %q", body["error"], tt.wantError)
				}
				return
			}
			if body["token_format"] != "opaque" || body["access_token"] == "" {
				t.Errorf("got %v, want an opaque token", body)
			}
			if res := send(t, http.MethodGet, s.URL+"/services/data/v45.0/limits/", body["access_token"], nil); res.status != http.StatusOK {
				t.Errorf("token not usable: got %d", res.status)
			}
			if got := s.Counters()["logins.client_credentials"]; got != 1 {
				t.Errorf("client_credentials logins: got %d, want 1", got)
			}
		})
	}
}

// jwtKeys makes an RSA key and its self-signed certificate (PEM).
func jwtKeys(t *testing.T) (*rsa.PrivateKey, string, string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "connector"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	pubPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
	return key, certPEM, pubPEM
}

func TestJWTBearer(t *testing.T) {
	key, certPEM, pubPEM := jwtKeys(t)
	other, _, _ := jwtKeys(t)
	claims := func(mod func(c jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"iss": sforg.DefaultClientID, "sub": sforg.DefaultUsername, "aud": "https://login.salesforce.com", "exp": time.Now().Add(3 * time.Minute).Unix()}
		if mod != nil {
			mod(c)
		}
		return c
	}
	sign := func(k *rsa.PrivateKey, c jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, c).SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	hs := func(c jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(pubPEM))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := []struct {
		name      string
		keyPEM    string
		assertion string
		wantError string
		wantDesc  string
	}{
		{"certificate", certPEM, sign(key, claims(nil)), "", ""},
		{"public key", pubPEM, sign(key, claims(nil)), "", ""},
		{"sandbox audience at a production org", certPEM, sign(key, claims(func(c jwt.MapClaims) { c["aud"] = "https://test.salesforce.com" })), "invalid_grant", "Audience validation failed"},
		{"wrong audience", certPEM, sign(key, claims(func(c jwt.MapClaims) { c["aud"] = "https://evil.example" })), "invalid_grant", "Audience validation failed"},
		{"expired", certPEM, sign(key, claims(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Minute).Unix() })), "invalid_grant", "expired authorization code"},
		{"exp too far ahead", certPEM, sign(key, claims(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(time.Hour).Unix() })), "invalid_grant", "invalid assertion"},
		{"no exp", certPEM, sign(key, claims(func(c jwt.MapClaims) { delete(c, "exp") })), "invalid_grant", "invalid assertion"},
		{"wrong issuer", certPEM, sign(key, claims(func(c jwt.MapClaims) { c["iss"] = "someone" })), "invalid_client_id", "client identifier invalid"},
		{"wrong subject", certPEM, sign(key, claims(func(c jwt.MapClaims) { c["sub"] = "other@example.com" })), "invalid_grant", "authentication failure"},
		{"other key", certPEM, sign(other, claims(nil)), "invalid_grant", "invalid assertion"},
		{"HS256 with the public key as secret", pubPEM, hs(claims(nil)), "invalid_grant", "invalid assertion"},
		{"garbage", certPEM, "not.a.jwt", "invalid_grant", "invalid assertion"},
		{"no certificate configured", "", sign(key, claims(nil)), "invalid_grant", "invalid assertion"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startOrg(t, sforg.Options{JWTPublicKeyPEM: tt.keyPEM})
			res := postForm(t, s, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {tt.assertion}}, "", "")
			var body map[string]string
			res.json(t, &body)
			if tt.wantError == "" {
				if res.status != http.StatusOK || body["scope"] != "id full api" || body["access_token"] == "" {
					t.Fatalf("got %d %v, want 200 with scope and token", res.status, body)
				}
				if s.Counters()["logins.jwt-bearer"] != 1 {
					t.Errorf("jwt logins: got %v", s.Counters())
				}
				return
			}
			if res.status != http.StatusBadRequest || body["error"] != tt.wantError || body["error_description"] != tt.wantDesc {
				t.Errorf("got %d %q/%q, want 400 %q/%q", res.status, body["error"], body["error_description"], tt.wantError, tt.wantDesc)
			}
		})
	}
	t.Run("bad PEM refuses to start", func(t *testing.T) {
		if _, err := sforg.Start(sforg.Options{JWTPublicKeyPEM: "nope"}); err == nil {
			t.Error("Start with a bad key: got nil error")
		}
	})
}

// loginResult is the part of a SOAP loginResponse the connector reads.
type loginEnvelope struct {
	Body struct {
		LoginResponse *struct {
			XMLName xml.Name
			Result  struct {
				MetadataServerURL string `xml:"metadataServerUrl"`
				PasswordExpired   bool   `xml:"passwordExpired"`
				Sandbox           bool   `xml:"sandbox"`
				ServerURL         string `xml:"serverUrl"`
				SessionID         string `xml:"sessionId"`
				UserID            string `xml:"userId"`
				UserInfo          struct {
					OrganizationID      string `xml:"organizationId"`
					UserName            string `xml:"userName"`
					UserEmail           string `xml:"userEmail"`
					UserFullName        string `xml:"userFullName"`
					SessionSecondsValid int    `xml:"sessionSecondsValid"`
				} `xml:"userInfo"`
			} `xml:"result"`
		} `xml:"loginResponse"`
		Fault *struct {
			FaultCode   string `xml:"faultcode"`
			FaultString string `xml:"faultstring"`
			Detail      struct {
				Inner struct {
					XMLName       xml.Name
					ExceptionCode string `xml:"exceptionCode"`
				} `xml:",any"`
			} `xml:"detail"`
		} `xml:"Fault"`
	} `xml:"Body"`
}

func soapLogin(t *testing.T, rawURL, ns, user, pass string) (response, loginEnvelope) {
	t.Helper()
	body := `<?xml version="1.0" encoding="utf-8" ?>
<env:Envelope xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:env="http://schemas.xmlsoap.org/soap/envelope/">
  <env:Body><n1:login xmlns:n1="` + ns + `"><n1:username>` + user + `</n1:username><n1:password><![CDATA[` + pass + `]]></n1:password></n1:login></env:Body>
</env:Envelope>`
	if ns == "" {
		body = user // raw body
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, rawURL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/xml; charset=UTF-8")
	req.Header.Set("SOAPAction", `""`)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var env loginEnvelope
	var out response
	out.status, out.header = res.StatusCode, res.Header
	dec := xml.NewDecoder(res.Body)
	if err := dec.Decode(&env); err != nil {
		t.Fatalf("response is not XML: %v", err)
	}
	return out, env
}

func TestSOAPLogin(t *testing.T) {
	const partner, enterprise = "urn:partner.soap.sforce.com", "urn:enterprise.soap.sforce.com"
	pass := sforg.DefaultPassword + sforg.DefaultSecurityToken
	tests := []struct {
		name      string
		opts      sforg.Options
		path      string
		ns        string
		user      string
		pass      string
		wantNS    string // response namespace on success
		wantFault string
	}{
		{"partner", sforg.Options{}, "/services/Soap/u/45.0", partner, sforg.DefaultUsername, pass, partner, ""},
		{"enterprise", sforg.Options{}, "/services/Soap/c/45.0", enterprise, sforg.DefaultUsername, pass, enterprise, ""},
		{"partner element on enterprise endpoint", sforg.Options{}, "/services/Soap/c/45.0", partner, sforg.DefaultUsername, pass, enterprise, ""},
		{"last version with login", sforg.Options{}, "/services/Soap/u/64.0", partner, sforg.DefaultUsername, pass, partner, ""},
		{"username case", sforg.Options{}, "/services/Soap/u/45.0", partner, strings.ToUpper(sforg.DefaultUsername), pass, partner, ""},
		{"bad password", sforg.Options{}, "/services/Soap/u/45.0", partner, sforg.DefaultUsername, "nope", "", "sf:INVALID_LOGIN"},
		{"no token", sforg.Options{}, "/services/Soap/c/45.0", enterprise, sforg.DefaultUsername, sforg.DefaultPassword, "", "sf:INVALID_LOGIN"},
		{"version 65.0", sforg.Options{}, "/services/Soap/u/65.0", partner, sforg.DefaultUsername, pass, "", "sf:INVALID_OPERATION"},
		{"version 99.0", sforg.Options{}, "/services/Soap/u/99.0", partner, sforg.DefaultUsername, pass, "", "sf:UNSUPPORTED_API_VERSION"},
		{"version 30.0", sforg.Options{}, "/services/Soap/u/30.0", partner, sforg.DefaultUsername, pass, "", "sf:UNSUPPORTED_API_VERSION"},
		{"login disabled", sforg.Options{DisableSOAPLogin: true}, "/services/Soap/u/45.0", partner, sforg.DefaultUsername, pass, "", "sf:INVALID_OPERATION"},
		{"malformed", sforg.Options{}, "/services/Soap/u/45.0", "", "<env:Envelope", "", "", "soapenv:Client"},
		{"empty", sforg.Options{}, "/services/Soap/u/45.0", "", "", "", "", "soapenv:Client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startOrg(t, tt.opts)
			res, env := soapLogin(t, s.URL+tt.path, tt.ns, tt.user, tt.pass)
			if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") {
				t.Errorf("Content-Type: got %q, want text/xml", ct)
			}
			if tt.wantFault != "" {
				if res.status != http.StatusInternalServerError || env.Body.Fault == nil || env.Body.Fault.FaultCode != tt.wantFault {
					t.Fatalf("got %d %+v, want 500 fault %s", res.status, env.Body.Fault, tt.wantFault)
				}
				if tt.wantFault == "sf:INVALID_LOGIN" {
					f := env.Body.Fault
					if f.FaultString != "INVALID_LOGIN: Invalid username, password, security token; or user locked out." ||
						f.Detail.Inner.XMLName.Local != "LoginFault" || f.Detail.Inner.ExceptionCode != "INVALID_LOGIN" {
						t.Errorf("fault: got %+v", f)
					}
				}
				if s.Logins() != 0 {
					t.Errorf("logins: got %d, want 0", s.Logins())
				}
				return
			}
			lr := env.Body.LoginResponse
			if res.status != http.StatusOK || lr == nil {
				t.Fatalf("got %d, want 200 loginResponse", res.status)
			}
			if lr.XMLName.Space != tt.wantNS {
				t.Errorf("namespace: got %q, want %q", lr.XMLName.Space, tt.wantNS)
			}
			version := strings.Split(tt.path, "/")[4]
			kind := strings.Split(tt.path, "/")[3]
			r := lr.Result
			if want := s.URL + "/services/Soap/" + kind + "/" + version + "/" + sforg.OrgID[:15]; r.ServerURL != want {
				t.Errorf("serverUrl: got %q, want %q", r.ServerURL, want)
			}
			if want := s.URL + "/services/Soap/m/" + version + "/" + sforg.OrgID[:15]; r.MetadataServerURL != want {
				t.Errorf("metadataServerUrl: got %q, want %q", r.MetadataServerURL, want)
			}
			if r.PasswordExpired || r.Sandbox || !sfid.Valid(r.UserID) || r.UserInfo.OrganizationID != sforg.OrgID ||
				r.UserInfo.UserName != sforg.DefaultUsername || r.UserInfo.SessionSecondsValid != 7200 || r.UserInfo.UserFullName != "Integration User" {
				t.Errorf("result: got %+v", r)
			}
			if res := send(t, http.MethodGet, s.URL+"/services/data/v45.0/limits", r.SessionID, nil); res.status != http.StatusOK {
				t.Errorf("sessionId not usable for REST: got %d", res.status)
			}
			if s.Counters()["logins.soap"] != 1 {
				t.Errorf("soap logins: got %v", s.Counters())
			}
		})
	}
}
