package sforg

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// createJSON posts a record and returns its id.
func (c *orgClient) createJSON(object, body string) string {
	c.t.Helper()
	status, rb := c.do("POST", "/services/data/v45.0/sobjects/"+object, strings.NewReader(body), nil)
	if status != http.StatusCreated {
		c.t.Fatalf("create %s: status %d: %s", object, status, rb)
	}
	var res struct{ ID string }
	if err := json.Unmarshal(rb, &res); err != nil {
		c.t.Fatal(err)
	}
	return res.ID
}

// rawField returns the JSON text of one top-level key of a JSON object.
func rawField(t *testing.T, body []byte, key string) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	raw, ok := m[key]
	if !ok {
		t.Fatalf("no %s in %s", key, body)
	}
	return string(raw)
}

const billingSF = `{"city":"San Francisco","country":"US","geocodeAccuracy":"Zip","latitude":37.7941,"longitude":-122.3952,"postalCode":"94105","state":"CA","street":"1 Market St"}`

func TestCompoundAddressReadAndWrite(t *testing.T) {
	c := startOrgClient(t, Options{})
	id := c.createJSON("Account", `{"Name":"Acme","BillingStreet":"1 Market St","BillingCity":"San Francisco","BillingState":"CA",
		"BillingPostalCode":"94105","BillingCountry":"US","BillingLatitude":37.7941,"BillingLongitude":-122.3952,"BillingGeocodeAccuracy":"Zip"}`)

	t.Run("GET", func(t *testing.T) {
		status, body := c.do("GET", "/services/data/v45.0/sobjects/Account/"+id, nil, nil)
		if status != http.StatusOK {
			t.Fatalf("got %d %s", status, body)
		}
		if got := rawField(t, body, "BillingAddress"); got != billingSF {
			t.Errorf("BillingAddress: got %s, want %s", got, billingSF)
		}
		if got := rawField(t, body, "ShippingAddress"); got != "null" {
			t.Errorf("ShippingAddress: got %s, want null", got)
		}
		if got := rawField(t, body, "BillingLatitude"); got != "37.7941" {
			t.Errorf("BillingLatitude: got %s, want 37.7941", got)
		}
	})
	t.Run("SOQL", func(t *testing.T) {
		p := c.mustQuery("SELECT BillingAddress, ShippingAddress, BillingCity FROM Account WHERE Id = '"+id+"'", false)
		if len(p.Records) != 1 {
			t.Fatalf("got %d records", len(p.Records))
		}
		if got := rawField(t, p.Records[0], "BillingAddress"); got != billingSF {
			t.Errorf("BillingAddress: got %s, want %s", got, billingSF)
		}
		if got := rawField(t, p.Records[0], "ShippingAddress"); got != "null" {
			t.Errorf("ShippingAddress: got %s, want null", got)
		}
	})
	t.Run("a component update changes the compound", func(t *testing.T) {
		status, body := c.do("PATCH", "/services/data/v45.0/sobjects/Account/"+id, strings.NewReader(`{"BillingCity":"Oakland","BillingLatitude":null,"BillingLongitude":null,"BillingGeocodeAccuracy":null}`), nil)
		if status != http.StatusNoContent {
			t.Fatalf("got %d %s", status, body)
		}
		p := c.mustQuery("SELECT BillingAddress FROM Account WHERE Id = '"+id+"'", false)
		want := `{"city":"Oakland","country":"US","geocodeAccuracy":null,"latitude":null,"longitude":null,"postalCode":"94105","state":"CA","street":"1 Market St"}`
		if got := rawField(t, p.Records[0], "BillingAddress"); got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})
	t.Run("the compound is read-only", func(t *testing.T) {
		for _, method := range []string{"POST", "PATCH"} {
			path := "/services/data/v45.0/sobjects/Account"
			body := `{"Name":"X","BillingAddress":{"city":"Paris"}}`
			if method == "PATCH" {
				path += "/" + id
				body = `{"BillingAddress":{"city":"Paris"}}`
			}
			status, rb := c.do(method, path, strings.NewReader(body), nil)
			if status != http.StatusBadRequest || !strings.Contains(string(rb), `"errorCode":"INVALID_FIELD_FOR_INSERT_UPDATE"`) || !strings.Contains(string(rb), `"fields":["BillingAddress"]`) {
				t.Errorf("%s: got %d %s, want 400 INVALID_FIELD_FOR_INSERT_UPDATE on BillingAddress", method, status, rb)
			}
		}
	})
}

func TestCompoundFieldsOfStandardObjects(t *testing.T) {
	c := startOrgClient(t, Options{})
	for _, tc := range []struct {
		object, compound string
		parts            []string
	}{
		{"Account", "BillingAddress", []string{"BillingStreet", "BillingCity", "BillingState", "BillingPostalCode", "BillingCountry", "BillingLatitude", "BillingLongitude", "BillingGeocodeAccuracy"}},
		{"Account", "ShippingAddress", []string{"ShippingStreet", "ShippingLatitude", "ShippingGeocodeAccuracy"}},
		{"Contact", "MailingAddress", []string{"MailingStreet", "MailingCity", "MailingLongitude"}},
		{"Contact", "OtherAddress", []string{"OtherStreet", "OtherCity", "OtherState", "OtherPostalCode", "OtherCountry", "OtherLatitude", "OtherLongitude", "OtherGeocodeAccuracy"}},
		{"Lead", "Address", []string{"Street", "City", "State", "PostalCode", "Country", "Latitude", "Longitude", "GeocodeAccuracy"}},
		{"User", "Address", []string{"Street", "City", "Latitude", "GeocodeAccuracy"}},
	} {
		t.Run(tc.object+"."+tc.compound, func(t *testing.T) {
			status, body := c.do("GET", "/services/data/v45.0/sobjects/"+tc.object+"/describe", nil, nil)
			if status != http.StatusOK {
				t.Fatalf("got %d %s", status, body)
			}
			var d struct {
				Fields []struct {
					Name, Type, SoapType string
					CompoundFieldName    *string
					Createable           bool
					Updateable           bool
					Filterable           bool
					Nillable             bool
				}
			}
			if err := json.Unmarshal(body, &d); err != nil {
				t.Fatal(err)
			}
			byName := map[string]int{}
			for i, f := range d.Fields {
				byName[f.Name] = i
			}
			i, ok := byName[tc.compound]
			if !ok {
				t.Fatalf("no field %s", tc.compound)
			}
			f := d.Fields[i]
			if f.Type != "address" || f.SoapType != "urn:address" || f.Createable || f.Updateable || f.Filterable || !f.Nillable || f.CompoundFieldName != nil {
				t.Errorf("%s: got %+v, want a read-only, unfilterable address", tc.compound, f)
			}
			for _, part := range tc.parts {
				j, ok := byName[part]
				if !ok {
					t.Errorf("no component %s", part)
					continue
				}
				if got := d.Fields[j].CompoundFieldName; got == nil || *got != tc.compound {
					t.Errorf("%s.compoundFieldName: got %v, want %q", part, got, tc.compound)
				}
				if j > i {
					t.Errorf("%s comes after %s, want the components first", part, tc.compound)
				}
			}
			if lat := d.Fields[byName[strings.TrimSuffix(tc.compound, "Address")+"Latitude"]]; lat.Type != "double" || lat.Createable != (tc.object != "User") {
				t.Errorf("latitude: got %+v, want a double, writable unless the object is read-only", lat)
			}
			if name := d.Fields[byName["Id"]]; !strings.Contains(string(body), `"compoundFieldName":null`) || name.CompoundFieldName != nil {
				t.Errorf("fields outside a compound: want compoundFieldName null")
			}
		})
	}
}

func TestCompoundFieldsInQueries(t *testing.T) {
	c := startOrgClient(t, Options{})
	c.createJSON("Contact", `{"LastName":"Doe","MailingCity":"Paris","OtherCity":"Lyon"}`)
	for _, tc := range []struct {
		name, soql, code, text string
	}{
		{"filter", "SELECT Id FROM Contact WHERE MailingAddress = 'Paris'", "INVALID_FIELD", "field 'MailingAddress' can not be filtered in a query call"},
		{"sort", "SELECT Id FROM Contact ORDER BY OtherAddress", "INVALID_FIELD", "field 'OtherAddress' can not be sorted in a query call"},
		{"group", "SELECT COUNT(Id) FROM Contact GROUP BY MailingAddress", "INVALID_FIELD", "field 'MailingAddress' can not be grouped in a query call"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := c.query(tc.soql, false, nil)
			if status != http.StatusBadRequest || !strings.Contains(string(body), `"errorCode":"`+tc.code+`"`) || !strings.Contains(string(body), tc.text) {
				t.Errorf("got %d %s, want 400 %s %q", status, body, tc.code, tc.text)
			}
		})
	}
	t.Run("components filter", func(t *testing.T) {
		p := c.mustQuery("SELECT MailingAddress, OtherAddress FROM Contact WHERE MailingCity = 'Paris'", false)
		if len(p.Records) != 1 || !strings.Contains(rawField(t, p.Records[0], "OtherAddress"), `"city":"Lyon"`) {
			t.Errorf("got %s", p.Records)
		}
	})
}

func TestCreateMetadataLocationField(t *testing.T) {
	c := startOrgClient(t, Options{})
	r := c.mustCreateMetadata(customObjectXML("Site__c", `<met:fields><met:fullName>Where__c</met:fullName><met:label>Where</met:label><met:type>Location</met:type><met:scale>4</met:scale><met:displayLocationInDecimal>true</met:displayLocationInDecimal></met:fields>`))
	if res := r.Body.Response.Results; len(res) != 1 || !res[0].Success {
		t.Fatalf("got %+v, want success", res)
	}
	id := c.createJSON("Site__c", `{"Name":"HQ","Where__Latitude__s":48.8584,"Where__Longitude__s":2.2945}`)
	status, body := c.do("GET", "/services/data/v45.0/sobjects/Site__c/"+id, nil, nil)
	if status != http.StatusOK {
		t.Fatalf("got %d %s", status, body)
	}
	if got, want := rawField(t, body, "Where__c"), `{"latitude":48.8584,"longitude":2.2945}`; got != want {
		t.Errorf("Where__c: got %s, want %s", got, want)
	}
	status, body = c.do("GET", "/services/data/v45.0/sobjects/Site__c/describe", nil, nil)
	if status != http.StatusOK {
		t.Fatalf("got %d %s", status, body)
	}
	for _, want := range []string{`"name":"Where__c","nameField":false`, `"soapType":"urn:location"`, `"compoundFieldName":"Where__c"`, `"name":"Where__Latitude__s"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("describe: no %s", want)
		}
	}
	if got := c.records("SELECT Where__c FROM Site__c", false); len(got) != 1 || got[0]["Where__c"] == nil {
		t.Errorf("SOQL: got %v", got)
	}
}

func TestCreateMetadataAutoNumberWithoutDisplayFormat(t *testing.T) {
	c := startOrgClient(t, Options{})
	item := strings.Replace(customObjectXML("Auto__c", ""), "<met:type>Text</met:type>", "<met:type>AutoNumber</met:type>", 1)
	if res := c.mustCreateMetadata(item).Body.Response.Results; len(res) != 1 || !res[0].Success {
		t.Fatalf("got %+v, want success", res)
	}
	c.createJSON("Auto__c", `{}`)
	c.createJSON("Auto__c", `{}`)
	recs := c.records("SELECT Name FROM Auto__c ORDER BY Name", false)
	if len(recs) != 2 || recs[0]["Name"] != "1" || recs[1]["Name"] != "2" {
		t.Errorf("got %v, want names 1 and 2", recs)
	}
}
