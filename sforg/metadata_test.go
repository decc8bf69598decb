package sforg

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// customObjectXML is one CustomObject component as §6.1 shows it.
func customObjectXML(fullName, extra string) string {
	return `<met:metadata xsi:type="met:CustomObject">
      <met:fullName>` + fullName + `</met:fullName>
      <met:label>Invoice</met:label>
      <met:pluralLabel>Invoices</met:pluralLabel>
      <met:nameField><met:label>Invoice Name</met:label><met:type>Text</met:type></met:nameField>
      <met:deploymentStatus>Deployed</met:deploymentStatus>
      <met:sharingModel>ReadWrite</met:sharingModel>` + extra + `
    </met:metadata>`
}

// metadataEnvelope wraps createMetadata components with a SessionHeader.
func metadataEnvelope(session string, components ...string) string {
	return `<?xml version="1.0" encoding="utf-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
    xmlns:met="http://soap.sforce.com/2006/04/metadata" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <soapenv:Header><met:SessionHeader><met:sessionId>` + session + `</met:sessionId></met:SessionHeader></soapenv:Header>
  <soapenv:Body><met:createMetadata>
    ` + strings.Join(components, "\n    ") + `
  </met:createMetadata></soapenv:Body>
</soapenv:Envelope>`
}

// postSOAP sends a SOAP body without an Authorization header.
func postSOAP(t testing.TB, target, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/xml; charset=UTF-8")
	req.Header.Set("SOAPAction", `""`)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") {
		t.Errorf("Content-Type: got %q, want text/xml", ct)
	}
	return resp.StatusCode, string(b)
}

// saveResults decodes a createMetadataResponse.
type saveResults struct {
	Body struct {
		Response struct {
			XMLName xml.Name
			Results []struct {
				FullName string `xml:"fullName"`
				Success  bool   `xml:"success"`
				Errors   []struct {
					Fields     []string `xml:"fields"`
					Message    string   `xml:"message"`
					StatusCode string   `xml:"statusCode"`
				} `xml:"errors"`
			} `xml:"result"`
		} `xml:"createMetadataResponse"`
	} `xml:"Body"`
}

func (c *orgClient) createMetadata(components ...string) (int, string) {
	c.t.Helper()
	return postSOAP(c.t, c.s.URL+"/services/Soap/m/45.0", metadataEnvelope(c.token, components...))
}

func (c *orgClient) mustCreateMetadata(components ...string) saveResults {
	c.t.Helper()
	status, body := c.createMetadata(components...)
	if status != http.StatusOK {
		c.t.Fatalf("createMetadata: status %d: %s", status, body)
	}
	var r saveResults
	if err := xml.Unmarshal([]byte(body), &r); err != nil {
		c.t.Fatalf("response: %v: %s", err, body)
	}
	if r.Body.Response.XMLName.Space != nsMetadata {
		c.t.Errorf("createMetadataResponse namespace: got %q, want %q", r.Body.Response.XMLName.Space, nsMetadata)
	}
	return r
}

func TestCreateMetadataThenUseObject(t *testing.T) {
	c := startOrgClient(t, Options{})
	status, body := c.createMetadata(customObjectXML("Invoice__c", ""))
	want := `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><createMetadataResponse xmlns="http://soap.sforce.com/2006/04/metadata"><result><fullName>Invoice__c</fullName><success>true</success></result></createMetadataResponse></soapenv:Body></soapenv:Envelope>`
	if status != http.StatusOK || body != want {
		t.Fatalf("createMetadata:\ngot  %d %s\nwant 200 %s", status, body, want)
	}
	if got := c.s.Requests("metadata"); got != 1 {
		t.Errorf("requests counted for route metadata: got %d, want 1", got)
	}

	status, rb := c.do("POST", "/services/data/v45.0/sobjects/Invoice__c/", strings.NewReader(`{"Name":"INV-1"}`), nil)
	if status != http.StatusCreated {
		t.Fatalf("REST create on the new object: status %d: %s", status, rb)
	}
	recs := c.records("SELECT Id, Name, OwnerId FROM Invoice__c", false)
	if len(recs) != 1 || recs[0]["Name"] != "INV-1" || recs[0]["OwnerId"] != c.s.Store().UserID() {
		t.Errorf("SOQL on the new object: got %v", recs)
	}
	if id, _ := recs[0]["Id"].(string); !strings.HasPrefix(id, "a") {
		t.Errorf("custom object id: got %q, want a custom key prefix", id)
	}
}

func TestCreateMetadataAutoNumberAndFields(t *testing.T) {
	c := startOrgClient(t, Options{})
	item := `<met:metadata xsi:type="CustomObject" xmlns:met="http://soap.sforce.com/2006/04/metadata">
      <met:fullName>Ticket__c</met:fullName><met:label>Ticket</met:label><met:pluralLabel>Tickets</met:pluralLabel>
      <met:nameField><met:displayFormat>T-{0000}</met:displayFormat><met:label>Ticket Number</met:label><met:type>AutoNumber</met:type></met:nameField>
      <met:deploymentStatus>InDevelopment</met:deploymentStatus><met:sharingModel>Private</met:sharingModel>
      <met:fields><met:fullName>Amount__c</met:fullName><met:label>Amount</met:label><met:type>Currency</met:type><met:precision>16</met:precision><met:scale>2</met:scale></met:fields>
      <met:fields><met:fullName>Open__c</met:fullName><met:label>Open</met:label><met:type>Checkbox</met:type><met:defaultValue>true</met:defaultValue></met:fields>
      <met:fields><met:fullName>Code__c</met:fullName><met:label>Code</met:label><met:type>Text</met:type><met:length>10</met:length><met:externalId>true</met:externalId></met:fields>
    </met:metadata>`
	r := c.mustCreateMetadata(item)
	if res := r.Body.Response.Results; len(res) != 1 || !res[0].Success {
		t.Fatalf("got %+v, want success", res)
	}
	for _, body := range []string{`{"Amount__c":12.5,"Code__c":"A1"}`, `{"Amount__c":3}`} {
		if status, rb := c.do("POST", "/services/data/v45.0/sobjects/Ticket__c", strings.NewReader(body), nil); status != http.StatusCreated {
			t.Fatalf("create: status %d: %s", status, rb)
		}
	}
	recs := c.records("SELECT Name, Amount__c, Open__c, Code__c FROM Ticket__c ORDER BY Name", false)
	if len(recs) != 2 || recs[0]["Name"] != "T-0001" || recs[1]["Name"] != "T-0002" {
		t.Fatalf("auto numbers: got %v, want T-0001 and T-0002", recs)
	}
	if recs[0]["Amount__c"] != 12.5 || recs[0]["Open__c"] != true || recs[0]["Code__c"] != "A1" {
		t.Errorf("fields: got %v", recs[0])
	}
	status, rb := c.do("POST", "/services/data/v45.0/sobjects/Ticket__c", strings.NewReader(`{"Name":"mine"}`), nil)
	if status != http.StatusBadRequest {
		t.Errorf("writing an auto-number Name: got status %d, want 400: %s", status, rb)
	}
}

func TestCreateMetadataItemErrors(t *testing.T) {
	c := startOrgClient(t, Options{})
	c.mustCreateMetadata(customObjectXML("Invoice__c", ""))
	tests := []struct {
		name, item, code, message string
		fields                    []string
	}{
		{"duplicate", customObjectXML("Invoice__c", ""), "DUPLICATE_DEVELOPER_NAME", "There is already a Custom Object named Invoice.", []string{"fullName"}},
		{"duplicate other case", customObjectXML("invoice__c", ""), "DUPLICATE_DEVELOPER_NAME", "", nil},
		{"missing __c", customObjectXML("Invoice", ""), "FIELD_INTEGRITY_EXCEPTION", "", []string{"fullName"}},
		{"namespace", customObjectXML("ns__Invoice__c", ""), "FIELD_INTEGRITY_EXCEPTION", "", nil},
		{"bad characters", customObjectXML("In voice__c", ""), "FIELD_INTEGRITY_EXCEPTION", "", nil},
		{"no fullName", `<met:metadata xsi:type="met:CustomObject"><met:label>X</met:label></met:metadata>`, "REQUIRED_FIELD_MISSING", "Required field is missing: fullName", []string{"fullName"}},
		{"no label", `<met:metadata xsi:type="met:CustomObject"><met:fullName>NoLabel__c</met:fullName><met:pluralLabel>Xs</met:pluralLabel><met:nameField><met:label>N</met:label><met:type>Text</met:type></met:nameField></met:metadata>`, "REQUIRED_FIELD_MISSING", "Required field is missing: label", []string{"label"}},
		{"no pluralLabel", `<met:metadata xsi:type="met:CustomObject"><met:fullName>NoPlural__c</met:fullName><met:label>X</met:label><met:nameField><met:label>N</met:label><met:type>Text</met:type></met:nameField></met:metadata>`, "REQUIRED_FIELD_MISSING", "", []string{"pluralLabel"}},
		{"no nameField", `<met:metadata xsi:type="met:CustomObject"><met:fullName>NoName__c</met:fullName><met:label>X</met:label><met:pluralLabel>Xs</met:pluralLabel></met:metadata>`, "REQUIRED_FIELD_MISSING", "", []string{"nameField"}},
		{"name field of type Number", strings.Replace(customObjectXML("Numbered__c", ""), "<met:type>Text</met:type>", "<met:type>Number</met:type>", 1), "FIELD_INTEGRITY_EXCEPTION", "", []string{"nameField.type"}},
		{"field without __c", customObjectXML("WithField__c", `<met:fields><met:fullName>Amount</met:fullName><met:label>A</met:label><met:type>Number</met:type><met:precision>5</met:precision></met:fields>`), "FIELD_INTEGRITY_EXCEPTION", "", nil},
		{"text field without length", customObjectXML("WithText__c", `<met:fields><met:fullName>Code__c</met:fullName><met:label>Code</met:label><met:type>Text</met:type></met:fields>`), "FIELD_INTEGRITY_EXCEPTION", "", nil},
		{"field type not emulated", customObjectXML("WithTime__c", `<met:fields><met:fullName>When__c</met:fullName><met:label>W</met:label><met:type>Time</met:type></met:fields>`), "INVALID_TYPE", "", nil},
		{"other metadata type", `<met:metadata xsi:type="met:CustomField"><met:fullName>Account.Foo__c</met:fullName></met:metadata>`, "INVALID_TYPE", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.mustCreateMetadata(tt.item)
			res := r.Body.Response.Results
			if len(res) != 1 || res[0].Success || len(res[0].Errors) != 1 {
				t.Fatalf("got %+v, want one failed result with one error", res)
			}
			e := res[0].Errors[0]
			if e.StatusCode != tt.code {
				t.Errorf("statusCode: got %q, want %q (%s)", e.StatusCode, tt.code, e.Message)
			}
			if tt.message != "" && e.Message != tt.message {
				t.Errorf("message: got %q, want %q", e.Message, tt.message)
			}
			if tt.fields != nil && strings.Join(e.Fields, ",") != strings.Join(tt.fields, ",") {
				t.Errorf("fields: got %v, want %v", e.Fields, tt.fields)
			}
		})
	}
	if got := len(c.s.Store().Objects()); got != len(standardObjects())+2 {
		t.Errorf("objects defined: got %d, want the standard ones, Organization and Invoice__c", got)
	}
}

func TestCreateMetadataPartialSaveAndAllOrNone(t *testing.T) {
	c := startOrgClient(t, Options{})
	bad := `<met:metadata xsi:type="met:CustomObject"><met:fullName>Bad__c</met:fullName></met:metadata>`
	r := c.mustCreateMetadata(customObjectXML("First__c", ""), bad, customObjectXML("First__c", ""))
	res := r.Body.Response.Results
	if len(res) != 3 || !res[0].Success || res[1].Success || res[2].Success || res[2].Errors[0].StatusCode != "DUPLICATE_DEVELOPER_NAME" {
		t.Fatalf("partial save: got %+v", res)
	}
	if _, ok := c.s.Store().Object("First__c"); !ok {
		t.Error("First__c was not created")
	}

	env := strings.Replace(metadataEnvelope(c.token, customObjectXML("Second__c", ""), bad),
		"</met:SessionHeader>", "</met:SessionHeader><met:AllOrNoneHeader><met:allOrNone>true</met:allOrNone></met:AllOrNoneHeader>", 1)
	status, body := postSOAP(t, c.s.URL+"/services/Soap/m/45.0", env)
	var all saveResults
	if err := xml.Unmarshal([]byte(body), &all); err != nil || status != http.StatusOK {
		t.Fatalf("allOrNone: status %d: %s", status, body)
	}
	res = all.Body.Response.Results
	if len(res) != 2 || res[0].Success || res[0].Errors[0].StatusCode != "ALL_OR_NONE_OPERATION_ROLLED_BACK" || res[1].Success {
		t.Errorf("allOrNone results: got %+v", res)
	}
	if _, ok := c.s.Store().Object("Second__c"); ok {
		t.Error("Second__c was created despite allOrNone")
	}
}

// wantFault checks an HTTP 500 SOAP fault.
func wantFault(t *testing.T, status int, body, faultcode, faultstring string) {
	t.Helper()
	if status != http.StatusInternalServerError {
		t.Errorf("status: got %d, want 500", status)
	}
	var f struct {
		Body struct {
			Fault struct {
				Code   string `xml:"faultcode"`
				String string `xml:"faultstring"`
			} `xml:"Fault"`
		} `xml:"Body"`
	}
	if err := xml.Unmarshal([]byte(body), &f); err != nil {
		t.Fatalf("not a SOAP envelope: %v: %s", err, body)
	}
	if f.Body.Fault.Code != faultcode {
		t.Errorf("faultcode: got %q, want %q", f.Body.Fault.Code, faultcode)
	}
	if faultstring != "" && f.Body.Fault.String != faultstring {
		t.Errorf("faultstring: got %q, want %q", f.Body.Fault.String, faultstring)
	}
}

func TestCreateMetadataFaults(t *testing.T) {
	c := startOrgClient(t, Options{})
	eleven := make([]string, 11)
	for i := range eleven {
		eleven[i] = customObjectXML(fmt.Sprintf("Many%d__c", i), "")
	}
	good := customObjectXML("Good__c", "")
	tests := []struct {
		name, path, body, code, message string
	}{
		{"bad deploymentStatus", "45.0", metadataEnvelope(c.token, good, strings.Replace(customObjectXML("Enum__c", ""), ">Deployed<", ">Live<", 1)), "soapenv:Client", "'Live' is not a valid value for the enum 'DeploymentStatus'"},
		{"bad sharingModel", "45.0", metadataEnvelope(c.token, good, strings.Replace(customObjectXML("Enum__c", ""), ">ReadWrite<", ">Public<", 1)), "soapenv:Client", "'Public' is not a valid value for the enum 'SharingModel'"},
		{"bad nameField type", "45.0", metadataEnvelope(c.token, good, strings.Replace(customObjectXML("Enum__c", ""), ">Text<", ">Words<", 1)), "soapenv:Client", "'Words' is not a valid value for the enum 'FieldType'"},
		{"eleven components", "45.0", metadataEnvelope(c.token, eleven...), "sf:EXCEEDED_ID_LIMIT", "EXCEEDED_ID_LIMIT: record limit reached. cannot submit more than 10 records in this operation"},
		{"unknown session", "45.0", metadataEnvelope("00D5g000004XyZa!nope", good), "sf:INVALID_SESSION_ID", "INVALID_SESSION_ID: Invalid Session ID found in SessionHeader: Illegal Session"},
		{"no session header", "45.0", strings.Replace(metadataEnvelope(c.token, good), "<met:SessionHeader><met:sessionId>"+c.token+"</met:sessionId></met:SessionHeader>", "", 1), "sf:INVALID_SESSION_ID", ""},
		{"malformed XML", "45.0", metadataEnvelope(c.token, good)[:300], "soapenv:Client", ""},
		{"empty body", "45.0", "", "soapenv:Client", "Premature end of file."},
		{"not an envelope", "45.0", "<hello/>", "soapenv:Client", ""},
		{"missing xsi:type", "45.0", metadataEnvelope(c.token, `<met:metadata><met:fullName>X__c</met:fullName></met:metadata>`), "soapenv:Client", ""},
		{"other operation", "45.0", strings.ReplaceAll(metadataEnvelope(c.token, good), "createMetadata>", "deleteMetadata>"), "soapenv:Client", "No operation available for request {http://soap.sforce.com/2006/04/metadata}deleteMetadata, please check the WSDL for the service."},
		{"retired version", "20.0", metadataEnvelope(c.token, good), "sf:UNSUPPORTED_API_VERSION", ""},
		{"future version", "99.0", metadataEnvelope(c.token, good), "sf:UNSUPPORTED_API_VERSION", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := postSOAP(t, c.s.URL+"/services/Soap/m/"+tt.path, tt.body)
			wantFault(t, status, body, tt.code, tt.message)
		})
	}
	if _, ok := c.s.Store().Object("Good__c"); ok {
		t.Error("Good__c was created by a call that faulted")
	}
	resp, err := http.Get(c.s.URL + "/services/Soap/m/45.0")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Errorf("GET: got 200, want an error")
	}
}

func TestCreateMetadataFaultInjection(t *testing.T) {
	c := startOrgClient(t, Options{})
	if err := c.s.Inject(Fault{Route: "metadata", Kind: FaultStatus, Status: http.StatusServiceUnavailable, Times: 1}); err != nil {
		t.Fatal(err)
	}
	status, body := c.createMetadata(customObjectXML("Injected__c", ""))
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "SERVER_UNAVAILABLE") {
		t.Errorf("injected 503: got %d %s", status, body)
	}
	if r := c.mustCreateMetadata(customObjectXML("Injected__c", "")); !r.Body.Response.Results[0].Success {
		t.Errorf("after the fault: got %+v", r.Body.Response.Results)
	}
	if got := c.s.Requests("metadata"); got != 2 {
		t.Errorf("requests counted: got %d, want 2", got)
	}
}

// TestCreateMetadataSessions uses sessions from both login flows: an OAuth
// access token and a SOAP login() sessionId, the latter with the
// metadataServerUrl login returned.
func TestCreateMetadataSessions(t *testing.T) {
	s, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	set := s.Settings()

	form := url.Values{
		"grant_type": {"password"}, "client_id": {set["SALESFORCE_CLIENT_ID"]}, "client_secret": {set["SALESFORCE_CLIENT_SECRET"]},
		"username": {set["SALESFORCE_USERNAME"]}, "password": {set["SALESFORCE_PASSWORD"] + set["SALESFORCE_SECURITY_TOKEN"]},
	}
	resp, err := http.PostForm(set["SALESFORCE_URL_LOGIN"], form)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := json.Unmarshal(b, &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("OAuth login: %v: %s", err, b)
	}

	login := `<?xml version="1.0" encoding="utf-8"?><env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body>
<n1:login xmlns:n1="urn:partner.soap.sforce.com"><n1:username>` + set["SALESFORCE_USERNAME"] + `</n1:username><n1:password>` +
		set["SALESFORCE_PASSWORD"] + set["SALESFORCE_SECURITY_TOKEN"] + `</n1:password></n1:login></env:Body></env:Envelope>`
	status, body := postSOAP(t, s.URL+"/services/Soap/u/45.0", login)
	var lr struct {
		Body struct {
			Resp struct {
				Result struct {
					SessionID         string `xml:"sessionId"`
					MetadataServerURL string `xml:"metadataServerUrl"`
				} `xml:"result"`
			} `xml:"loginResponse"`
		} `xml:"Body"`
	}
	if err := xml.Unmarshal([]byte(body), &lr); err != nil || status != http.StatusOK || lr.Body.Resp.Result.SessionID == "" {
		t.Fatalf("SOAP login: %d %v: %s", status, err, body)
	}

	tests := []struct {
		name, session, target string
	}{
		{"OAuth access token", tok.AccessToken, s.URL + "/services/Soap/m/45.0"},
		{"SOAP session at metadataServerUrl", lr.Body.Resp.Result.SessionID, lr.Body.Resp.Result.MetadataServerURL},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("Session%d__c", i)
			status, body := postSOAP(t, tt.target, metadataEnvelope(tt.session, customObjectXML(name, "")))
			if status != http.StatusOK || !strings.Contains(body, "<success>true</success>") {
				t.Fatalf("createMetadata: %d %s", status, body)
			}
			if _, ok := s.Store().Object(name); !ok {
				t.Errorf("%s not defined", name)
			}
		})
	}

	s.ExpireSessions()
	status, body = postSOAP(t, s.URL+"/services/Soap/m/45.0", metadataEnvelope(tok.AccessToken, customObjectXML("Late__c", "")))
	wantFault(t, status, body, "sf:INVALID_SESSION_ID", "INVALID_SESSION_ID: Invalid Session ID found in SessionHeader: Illegal Session")
}
