package sforg

// The Organization object and the sandbox switch.
//
// Clients read Organization (SELECT IsSandbox, InstanceName, OrganizationType,
// TimeZoneSidKey FROM Organization) to tell a sandbox from production. The org
// has exactly one row, whose Id is the org id (key prefix 00D). Like in
// Salesforce it can be queried, retrieved and described; the emulator does not
// let the API change it ([UNCONFIRMED] whether some fields are updateable
// through REST in current versions; the object is read-only here).
//
// Options.Sandbox (local/sforg -sandbox) makes the org a sandbox: IsSandbox is
// true, the SOAP login result says <sandbox>true</sandbox>, and the JWT bearer
// flow accepts the sandbox login host https://test.salesforce.com as audience
// instead of the production one, https://login.salesforce.com: Salesforce
// documents the audience as the login server of the org's environment
// (docs/salesforce-protocol.md §1.4). Both accept the org's own URL (its My
// Domain).

import (
	"net/http"
	"strings"

	"github.com/sfconnect/connector/sforg/soql"
)

// Login hosts, the audiences of a JWT bearer assertion.
const (
	productionLoginURL = "https://login.salesforce.com"
	sandboxLoginURL    = "https://test.salesforce.com"
)

// Instance names: the server the org lives on.
// [UNCONFIRMED] real instance names vary (NA…, CS…, USA…S); these follow the
// Hyperforce form, where a sandbox instance carries an S suffix.
const (
	productionInstance = "USA544"
	sandboxInstance    = "USA544S"
)

// defaultAudiences are the JWT audiences the org accepts when
// Options.JWTAudiences is empty.
func (s *Server) defaultAudiences(r *http.Request) []string {
	if s.opts.Sandbox {
		return []string{s.baseURL(r), sandboxLoginURL}
	}
	return []string{s.baseURL(r), productionLoginURL}
}

// organizationObject is the Organization object's definition: the fields
// clients read, with the types and labels of the object reference.
func organizationObject() *Object {
	o := object("Organization", "Organization", "Organizations", "00D",
		nameField(required(text("Name", "Name", 80))),
		text("Division", "Division", 80),
		typed(soql.TypeTextArea, "Street", "Street", 255),
		text("City", "City", 40),
		text("State", "State/Province", 80),
		text("PostalCode", "Zip/Postal Code", 20),
		text("Country", "Country", 80),
		typed(soql.TypePhone, "Phone", "Phone", 40),
		typed(soql.TypePhone, "Fax", "Fax", 40),
		text("PrimaryContact", "Primary Contact", 80),
		required(picklist("DefaultLocaleSidKey", "Locale", "en_US", "en_GB", "fr_FR", "de_DE")),
		required(picklist("TimeZoneSidKey", "Time Zone", "America/Los_Angeles", "America/New_York", "Europe/London", "Europe/Paris", "GMT")),
		required(picklist("LanguageLocaleKey", "Language", "en_US", "fr", "de")),
		checkbox("ReceivesInfoEmails", "Info Emails", false),
		checkbox("ReceivesAdminInfoEmails", "Info Emails Admin", false),
		number(soql.TypeInt, "FiscalYearStartMonth", "Fiscal Year Starts In", 2, 0),
		checkbox("UsesStartDateAsFiscalYearName", "Fiscal Year Name by Start", false),
		picklist("DefaultAccountAccess", "Default Account Access", "None", "Read", "Edit", "ALL"),
		picklist("DefaultContactAccess", "Default Contact Access", "None", "Read", "Edit", "ALL", "ControlledByParent"),
		picklist("DefaultOpportunityAccess", "Default Opportunity Access", "None", "Read", "Edit", "ALL"),
		picklist("DefaultLeadAccess", "Default Lead Access", "None", "Read", "Edit", "ReadEditTransfer"),
		picklist("DefaultCaseAccess", "Default Case Access", "None", "Read", "Edit", "ReadEditTransfer"),
		typed(soql.TypeEmail, "ComplianceBccEmail", "Compliance BCC Email", 80),
		picklist("UiSkin", "UI Skin", "Theme1", "Theme2", "Theme3", "Theme4d"),
		text("SignupCountryIsoCode", "Signup Country", 2),
		typed(soql.TypeDateTime, "TrialExpirationDate", "Trial Expiration Date", 0),
		picklist("OrganizationType", "Edition", "Team Edition", "Professional Edition", "Enterprise Edition", "Developer Edition", "Personal Edition", "Unlimited Edition", "Contact Manager Edition", "Base Edition"),
		text("NamespacePrefix", "Namespace Prefix", 15),
		text("InstanceName", "Instance Name", 10),
		checkbox("IsSandbox", "Is Sandbox", false),
		checkbox("IsReadOnly", "Is Read Only", false),
	)
	o.ReadOnly = true
	return o
}

// seedOrganization defines Organization and inserts the org's one row, with
// the org id as its Id. A Developer Edition org (the limits of rest.go are
// one's) has no sandboxes, so a sandbox reports the edition of a production
// org that has them ([UNCONFIRMED] which edition; Enterprise is the common one).
func (s *Server) seedOrganization() {
	if err := s.store.Define(organizationObject()); err != nil {
		panic(err) // a programming error: the name is fixed
	}
	edition, instance := "Developer Edition", productionInstance
	if s.opts.Sandbox {
		edition, instance = "Enterprise Edition", sandboxInstance
	}
	s.store.insertWithID("Organization", OrgID, map[string]any{
		"Name":                          OrgName,
		"Country":                       "US",
		"PrimaryContact":                "Integration User",
		"DefaultLocaleSidKey":           "en_US",
		"TimeZoneSidKey":                "America/Los_Angeles",
		"LanguageLocaleKey":             "en_US",
		"FiscalYearStartMonth":          float64(1),
		"DefaultAccountAccess":          "Edit",
		"DefaultContactAccess":          "ControlledByParent",
		"DefaultOpportunityAccess":      "Edit",
		"DefaultLeadAccess":             "ReadEditTransfer",
		"DefaultCaseAccess":             "ReadEditTransfer",
		"UiSkin":                        "Theme3",
		"SignupCountryIsoCode":          "US",
		"OrganizationType":              edition,
		"InstanceName":                  instance,
		"IsSandbox":                     s.opts.Sandbox,
		"UsesStartDateAsFiscalYearName": false,
	})
}

// insertWithID stores a platform-made record under a fixed id (the org's own
// row), without consuming a record number.
func (s *Store) insertWithID(object, id string, fields map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.objects[strings.ToLower(object)]
	clean := make(map[string]any, len(fields))
	for k, v := range fields {
		f, ok := o.Field(k)
		if !ok {
			panic("sforg: no field " + k + " on " + object) // a programming error
		}
		clean[f.Name] = v
	}
	s.insertRow(o, id, clean)
}
