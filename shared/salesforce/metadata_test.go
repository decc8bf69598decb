package salesforce

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/sfconnect/connector/shared/faults"
)

var invoice = CustomObject{
	FullName:         "Invoice__c",
	Label:            "R&D <Invoice>",
	PluralLabel:      "Invoices",
	NameField:        NameField{Label: "Invoice Number", Type: "AutoNumber", DisplayFormat: "INV-{0000}"},
	DeploymentStatus: "Deployed",
	SharingModel:     "ReadWrite",
	Description:      `Bills "sent" & paid`,
}

// metadataRequest is what the fake read from a createMetadata call.
type metadataRequest struct {
	Header struct {
		Session string `xml:"SessionHeader>sessionId"`
	} `xml:"Header"`
	Body struct {
		Create struct {
			XMLName  xml.Name
			Metadata struct {
				Type             string `xml:"http://www.w3.org/2001/XMLSchema-instance type,attr"`
				FullName         string `xml:"fullName"`
				Label            string `xml:"label"`
				PluralLabel      string `xml:"pluralLabel"`
				DeploymentStatus string `xml:"deploymentStatus"`
				SharingModel     string `xml:"sharingModel"`
				Description      string `xml:"description"`
				NameField        struct {
					Label         string `xml:"label"`
					Type          string `xml:"type"`
					DisplayFormat string `xml:"displayFormat"`
				} `xml:"nameField"`
			} `xml:"metadata"`
		} `xml:"createMetadata"`
	} `xml:"Body"`
}

func TestCreateCustomObject(t *testing.T) {
	soapAnswer := func(t *testing.T, status int, name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
			w.WriteHeader(status)
			w.Write(fixture(t, name))
		}
	}
	tests := []struct {
		name       string
		api        func(t *testing.T, o *org) http.HandlerFunc
		expire     bool // the session expires before the call
		wantStatus int
		wantBody   string
		wantCode   faults.Code
		wantLogins int32
		wantCalls  int32
	}{
		{"success", func(t *testing.T, o *org) http.HandlerFunc { return soapAnswer(t, 200, "create_metadata_success.xml") }, false,
			200, `{"fullName":"Invoice__c","success":true,"errors":[]}`, "", 1, 1},
		{"per-item failure", func(t *testing.T, o *org) http.HandlerFunc {
			return soapAnswer(t, 200, "create_metadata_duplicate.xml")
		}, false,
			200, `{"fullName":"Invoice__c","success":false,"errors":[{"statusCode":"DUPLICATE_DEVELOPER_NAME","message":"There is already a Custom Object named Invoice.","fields":[]}]}`, "", 1, 1},
		{"INVALID_SESSION_ID replayed once", func(t *testing.T, o *org) http.HandlerFunc { return soapAnswer(t, 200, "create_metadata_success.xml") }, true,
			200, `{"fullName":"Invoice__c","success":true,"errors":[]}`, "", 2, 2},
		{"INVALID_SESSION_ID persists", func(t *testing.T, o *org) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				o.revoke()
				soapAnswer(t, 500, "soap_invalid_session_fault.xml")(w, r)
			}
		}, true, 0, "", faults.MissingToken, 2, 2},
		{"other fault", func(t *testing.T, o *org) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusInternalServerError)
				io.WriteString(w, `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault>`+
					`<faultcode>sf:INSUFFICIENT_ACCESS</faultcode><faultstring>INSUFFICIENT_ACCESS: insufficient access rights</faultstring>`+
					`</soapenv:Fault></soapenv:Body></soapenv:Envelope>`)
			}
		}, false, 500, `{"faultcode":"sf:INSUFFICIENT_ACCESS","faultstring":"INSUFFICIENT_ACCESS: insufficient access rights"}`, "", 1, 1},
		{"HTML 500 is not replayed", func(t *testing.T, o *org) http.HandlerFunc { return unavailable(t) }, false,
			0, "", faults.UnknownError, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var seen []metadataRequest
			var headers []http.Header
			var o *org
			o = newOrg(t, func(w http.ResponseWriter, r *http.Request) {
				raw, _ := io.ReadAll(r.Body)
				var m metadataRequest
				if err := xml.Unmarshal(raw, &m); err != nil {
					t.Errorf("request body %q: %v", raw, err)
				}
				mu.Lock()
				seen = append(seen, m)
				headers = append(headers, r.Header.Clone())
				mu.Unlock()
				tt.api(t, o)(w, r)
			})
			c, _ := newClient(t, o, nil)
			if tt.expire {
				if err := c.warmUp(t); err != nil {
					t.Fatal(err)
				}
				o.revoke()
			}

			resp, err := c.CreateCustomObject(t.Context(), invoice)
			if faults.CodeOf(err) != tt.wantCode {
				t.Fatalf("error: got %v, want code %q", err, tt.wantCode)
			}
			if err == nil {
				if resp.Status != tt.wantStatus || string(resp.Body) != tt.wantBody {
					t.Errorf("answer: got %d %s, want %d %s", resp.Status, resp.Body, tt.wantStatus, tt.wantBody)
				}
				if !json.Valid(resp.Body) {
					t.Errorf("body is not JSON: %s", resp.Body)
				}
			}
			if n := o.logins.Load(); n != tt.wantLogins {
				t.Errorf("logins: got %d, want %d", n, tt.wantLogins)
			}
			if n := o.calls.Load(); n != tt.wantCalls {
				t.Errorf("calls: got %d, want %d", n, tt.wantCalls)
			}

			mu.Lock()
			defer mu.Unlock()
			if len(seen) == 0 {
				return
			}
			m := seen[len(seen)-1].Body.Create
			if m.XMLName.Space != "http://soap.sforce.com/2006/04/metadata" || m.Metadata.Type != "met:CustomObject" {
				t.Errorf("element: got %q xsi:type %q, want createMetadata in the metadata namespace, met:CustomObject", m.XMLName.Space, m.Metadata.Type)
			}
			md := m.Metadata
			got := CustomObject{md.FullName, md.Label, md.PluralLabel,
				NameField{md.NameField.Label, md.NameField.Type, md.NameField.DisplayFormat},
				md.DeploymentStatus, md.SharingModel, md.Description}
			if got != invoice {
				t.Errorf("metadata: got %+v, want %+v", got, invoice)
			}
			h := headers[len(headers)-1]
			if h.Get("SOAPAction") != "createMetadata" || !strings.HasPrefix(h.Get("Content-Type"), "text/xml") {
				t.Errorf("headers: got SOAPAction %q Content-Type %q", h.Get("SOAPAction"), h.Get("Content-Type"))
			}
		})
	}
}

func TestMetadataEnvelopeEscapes(t *testing.T) {
	body := string(createMetadataEnvelope(`00D!a<b>&"c"`, invoice))
	for _, want := range []string{
		"<met:sessionId>00D!a&lt;b&gt;&amp;&#34;c&#34;</met:sessionId>",
		"<met:label>R&amp;D &lt;Invoice&gt;</met:label>",
		"<met:description>Bills &#34;sent&#34; &amp; paid</met:description>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("envelope lacks %q:\n%s", want, body)
		}
	}
	var v any
	if err := xml.Unmarshal([]byte(body), &v); err != nil {
		t.Errorf("envelope is not XML: %v", err)
	}
}

func TestCustomObjectJSON(t *testing.T) {
	var def CustomObject
	in := `{"fullName":"Invoice__c","label":"Invoice","pluralLabel":"Invoices","nameField":{"label":"Invoice Name","type":"Text"},"deploymentStatus":"Deployed","sharingModel":"ReadWrite"}`
	if err := json.Unmarshal([]byte(in), &def); err != nil {
		t.Fatal(err)
	}
	want := CustomObject{FullName: "Invoice__c", Label: "Invoice", PluralLabel: "Invoices",
		NameField: NameField{Label: "Invoice Name", Type: "Text"}, DeploymentStatus: "Deployed", SharingModel: "ReadWrite"}
	if def != want {
		t.Errorf("got %+v, want %+v", def, want)
	}
}
