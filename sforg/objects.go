package sforg

import (
	"strings"
	"sync/atomic"

	"github.com/sfconnect/connector/sforg/soql"
)

// OrgName is the org's name, as login and identity answers report it.
const OrgName = "sforg Local Org"

// seedSchema defines the standard objects a fresh Developer Edition org has
// (the subset the connector's workflows touch, with their real API names,
// labels, key prefixes, required fields and relationships) and the integration
// user the configured credentials log in as.
func (s *Server) seedSchema() {
	for _, o := range standardObjects() {
		if err := s.store.Define(o); err != nil {
			panic(err) // a programming error: the names are fixed
		}
	}
	email := s.opts.Username
	if !strings.Contains(email, "@") {
		email = "integration@example.com"
	}
	id, err := s.store.InsertSystem("User", map[string]any{
		"Username":          s.opts.Username,
		"FirstName":         "Integration",
		"LastName":          "User",
		"Email":             email,
		"Alias":             "integ",
		"CommunityNickname": "integration",
		"IsActive":          true,
		"TimeZoneSidKey":    "America/Los_Angeles",
		"LocaleSidKey":      "en_US",
		"LanguageLocaleKey": "en_US",
		"EmailEncodingKey":  "UTF-8",
	})
	if err != nil {
		panic(err)
	}
	s.store.SetUser(id)
	// The user created and owns itself, as the first user of an org does.
	s.store.UpdateSystem(id, map[string]any{"CreatedById": id, "LastModifiedById": id}) //nolint:errcheck // the row exists
	// The org's own row (org.go).
	s.seedOrganization()

	s.seedLoginUsers() // users.go: the other login users of Options.Users
}

// Field builders. Labels follow Salesforce's describe output.

func idField() *Field {
	return &Field{Name: "Id", Label: "Record ID", Type: soql.TypeID, Length: 18, ReadOnly: true}
}

func systemFields() []*Field {
	return []*Field{
		{Name: "IsDeleted", Label: "Deleted", Type: soql.TypeBoolean, ReadOnly: true, Default: false},
		{Name: "CreatedDate", Label: "Created Date", Type: soql.TypeDateTime, ReadOnly: true},
		{Name: "CreatedById", Label: "Created By ID", Type: soql.TypeReference, Length: 18, ReferenceTo: "User", RelationshipName: "CreatedBy", ReadOnly: true},
		{Name: "LastModifiedDate", Label: "Last Modified Date", Type: soql.TypeDateTime, ReadOnly: true},
		{Name: "LastModifiedById", Label: "Last Modified By ID", Type: soql.TypeReference, Length: 18, ReferenceTo: "User", RelationshipName: "LastModifiedBy", ReadOnly: true},
		{Name: "SystemModstamp", Label: "System Modstamp", Type: soql.TypeDateTime, ReadOnly: true},
	}
}

func text(name, label string, length int) *Field {
	return &Field{Name: name, Label: label, Type: soql.TypeString, Length: length}
}

func typed(typ, name, label string, length int) *Field {
	return &Field{Name: name, Label: label, Type: typ, Length: length}
}

func number(typ, name, label string, precision, scale int) *Field {
	return &Field{Name: name, Label: label, Type: typ, Precision: precision, Scale: scale}
}

func checkbox(name, label string, def bool) *Field {
	return &Field{Name: name, Label: label, Type: soql.TypeBoolean, Default: def}
}

func picklist(name, label string, values ...string) *Field {
	return &Field{Name: name, Label: label, Type: soql.TypePicklist, Length: 255, Picklist: values}
}

func lookup(name, label, to, relationship, children string) *Field {
	return &Field{Name: name, Label: label, Type: soql.TypeReference, Length: 18, ReferenceTo: to, RelationshipName: relationship, ChildRelationship: children}
}

func owner(children string) *Field {
	return lookup("OwnerId", "Owner ID", "User", "Owner", children)
}

func required(f *Field) *Field { f.Required = true; return f }
func readOnly(f *Field) *Field { f.ReadOnly = true; return f }
func nameField(f *Field) *Field {
	f.NameField = true
	return f
}
func withDefault(f *Field, v any) *Field { f.Default = v; return f }

// object assembles an object: Id first, then its own fields, then the audit fields.
func object(name, label, plural, prefix string, fields ...*Field) *Object {
	all := append([]*Field{idField()}, fields...)
	all = append(all, systemFields()...)
	return &Object{Name: name, Label: label, LabelPlural: plural, KeyPrefix: prefix, Fields: all}
}

// address returns the components of an address and its compound field
// (address.go).
func address(prefix, label string) []*Field {
	return compoundAddress(prefix, label,
		typed(soql.TypeTextArea, prefix+"Street", label+" Street", 255),
		text(prefix+"City", label+" City", 40),
		text(prefix+"State", label+" State/Province", 80),
		text(prefix+"PostalCode", label+" Zip/Postal Code", 20),
		text(prefix+"Country", label+" Country", 80),
	)
}

var (
	industries  = []string{"Agriculture", "Apparel", "Banking", "Biotechnology", "Chemicals", "Communications", "Construction", "Consulting", "Education", "Electronics", "Energy", "Engineering", "Entertainment", "Environmental", "Finance", "Food & Beverage", "Government", "Healthcare", "Hospitality", "Insurance", "Machinery", "Manufacturing", "Media", "Not For Profit", "Recreation", "Retail", "Shipping", "Technology", "Telecommunications", "Transportation", "Utilities", "Other"}
	leadSources = []string{"Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"}
	salutations = []string{"Mr.", "Ms.", "Mrs.", "Dr.", "Prof."}
	ratings     = []string{"Hot", "Warm", "Cold"}
)

// compoundName keeps the read-only Name of a person (Contact, Lead, User) equal
// to "FirstName LastName", as Salesforce does.
func compoundName(fields map[string]any) {
	first, _ := fields["FirstName"].(string)
	last, _ := fields["LastName"].(string)
	fields["Name"] = strings.TrimSpace(first + " " + last)
}

func standardObjects() []*Object {
	account := object("Account", "Account", "Accounts", "001", flatten(
		nameField(required(text("Name", "Account Name", 255))),
		text("AccountNumber", "Account Number", 40),
		picklist("Type", "Account Type", "Prospect", "Customer - Direct", "Customer - Channel", "Channel Partner / Reseller", "Installation Partner", "Technology Partner", "Other"),
		lookup("ParentId", "Parent Account ID", "Account", "Parent", "ChildAccounts"),
		address("Billing", "Billing"),
		address("Shipping", "Shipping"),
		typed(soql.TypePhone, "Phone", "Account Phone", 40),
		typed(soql.TypePhone, "Fax", "Account Fax", 40),
		typed(soql.TypeURL, "Website", "Website", 255),
		picklist("Industry", "Industry", industries...),
		number(soql.TypeCurrency, "AnnualRevenue", "Annual Revenue", 18, 0),
		number(soql.TypeInt, "NumberOfEmployees", "Employees", 8, 0),
		picklist("Ownership", "Ownership", "Public", "Private", "Subsidiary", "Other"),
		picklist("Rating", "Account Rating", ratings...),
		text("Site", "Account Site", 80),
		typed(soql.TypeTextArea, "Description", "Account Description", 32000),
		owner(""),
		readOnly(typed(soql.TypeDate, "LastActivityDate", "Last Activity", 0)),
	)...)

	contact := object("Contact", "Contact", "Contacts", "003", flatten(
		lookup("AccountId", "Account ID", "Account", "Account", "Contacts"),
		required(text("LastName", "Last Name", 80)),
		text("FirstName", "First Name", 40),
		picklist("Salutation", "Salutation", salutations...),
		nameField(readOnly(text("Name", "Full Name", 121))),
		address("Mailing", "Mailing"),
		address("Other", "Other"),
		typed(soql.TypePhone, "Phone", "Business Phone", 40),
		typed(soql.TypePhone, "MobilePhone", "Mobile Phone", 40),
		typed(soql.TypePhone, "Fax", "Business Fax", 40),
		typed(soql.TypeEmail, "Email", "Email", 80),
		text("Title", "Title", 128),
		text("Department", "Department", 80),
		picklist("LeadSource", "Lead Source", leadSources...),
		typed(soql.TypeDate, "Birthdate", "Birthdate", 0),
		lookup("ReportsToId", "Reports To ID", "Contact", "ReportsTo", ""),
		typed(soql.TypeTextArea, "Description", "Contact Description", 32000),
		owner(""),
	)...)
	contact.derive = compoundName

	lead := object("Lead", "Lead", "Leads", "00Q", flatten(
		required(text("LastName", "Last Name", 80)),
		text("FirstName", "First Name", 40),
		picklist("Salutation", "Salutation", salutations...),
		nameField(readOnly(text("Name", "Full Name", 121))),
		text("Title", "Title", 128),
		required(text("Company", "Company", 255)),
		address("", ""),
		typed(soql.TypePhone, "Phone", "Phone", 40),
		typed(soql.TypePhone, "MobilePhone", "Mobile Phone", 40),
		typed(soql.TypeEmail, "Email", "Email", 80),
		typed(soql.TypeURL, "Website", "Website", 255),
		typed(soql.TypeTextArea, "Description", "Description", 32000),
		picklist("LeadSource", "Lead Source", leadSources...),
		withDefault(required(picklist("Status", "Status", "Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted")), "Open - Not Contacted"),
		picklist("Industry", "Industry", industries...),
		picklist("Rating", "Rating", ratings...),
		number(soql.TypeCurrency, "AnnualRevenue", "Annual Revenue", 18, 0),
		number(soql.TypeInt, "NumberOfEmployees", "Employees", 8, 0),
		owner(""),
		readOnly(checkbox("IsConverted", "Converted", false)),
		readOnly(lookup("ConvertedAccountId", "Converted Account ID", "Account", "ConvertedAccount", "")),
		readOnly(lookup("ConvertedContactId", "Converted Contact ID", "Contact", "ConvertedContact", "")),
	)...)
	for _, f := range lead.Fields {
		// Lead's address fields are named Street, City... with plain labels.
		f.Label = strings.TrimSpace(f.Label)
	}
	lead.derive = compoundName

	opportunity := object("Opportunity", "Opportunity", "Opportunities", "006",
		lookup("AccountId", "Account ID", "Account", "Account", "Opportunities"),
		nameField(required(text("Name", "Name", 120))),
		typed(soql.TypeTextArea, "Description", "Description", 32000),
		required(picklist("StageName", "Stage", "Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers", "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost")),
		number(soql.TypeCurrency, "Amount", "Amount", 18, 2),
		number(soql.TypePercent, "Probability", "Probability (%)", 3, 0),
		required(typed(soql.TypeDate, "CloseDate", "Close Date", 0)),
		picklist("Type", "Opportunity Type", "Existing Customer - Upgrade", "Existing Customer - Replacement", "Existing Customer - Downgrade", "New Customer"),
		text("NextStep", "Next Step", 255),
		picklist("LeadSource", "Lead Source", leadSources...),
		readOnly(checkbox("IsClosed", "Closed", false)),
		readOnly(checkbox("IsWon", "Won", false)),
		owner(""),
	)
	opportunity.derive = func(fields map[string]any) {
		stage, _ := fields["StageName"].(string)
		fields["IsClosed"] = strings.HasPrefix(stage, "Closed")
		fields["IsWon"] = stage == "Closed Won"
	}

	caseNumber := nameField(readOnly(text("CaseNumber", "Case Number", 30)))
	caseNumber.AutoNumber = "{00000000}"
	kase := object("Case", "Case", "Cases", "500",
		caseNumber,
		lookup("ContactId", "Contact ID", "Contact", "Contact", "Cases"),
		lookup("AccountId", "Account ID", "Account", "Account", "Cases"),
		text("SuppliedName", "Web Name", 80),
		typed(soql.TypeEmail, "SuppliedEmail", "Web Email", 80),
		text("SuppliedPhone", "Web Phone", 40),
		text("SuppliedCompany", "Web Company", 80),
		picklist("Type", "Case Type", "Mechanical", "Electrical", "Electronic", "Structural", "Other"),
		withDefault(picklist("Status", "Status", "New", "Working", "Escalated", "Closed"), "New"),
		picklist("Reason", "Case Reason", "Installation", "Equipment Complexity", "Performance", "Breakdown", "Equipment Design", "Feedback", "Other"),
		picklist("Origin", "Case Origin", "Phone", "Email", "Web"),
		text("Subject", "Subject", 255),
		withDefault(picklist("Priority", "Priority", "High", "Medium", "Low"), "Medium"),
		typed(soql.TypeTextArea, "Description", "Description", 32000),
		readOnly(checkbox("IsClosed", "Closed", false)),
		readOnly(typed(soql.TypeDateTime, "ClosedDate", "Closed Date", 0)),
		checkbox("IsEscalated", "Escalated", false),
		owner(""),
	)
	kase.derive = func(fields map[string]any) {
		closed := fields["Status"] == "Closed"
		if closed && fields["IsClosed"] != true {
			fields["ClosedDate"] = fields["LastModifiedDate"]
		}
		if !closed {
			fields["ClosedDate"] = nil
		}
		fields["IsClosed"] = closed
	}

	user := object("User", "User", "Users", "005", flatten(
		required(unique(text("Username", "Username", 80))),
		required(text("LastName", "Last Name", 80)),
		text("FirstName", "First Name", 40),
		nameField(readOnly(text("Name", "Full Name", 121))),
		required(text("Alias", "Alias", 8)),
		required(typed(soql.TypeEmail, "Email", "Email", 128)),
		text("CommunityNickname", "Nickname", 40),
		checkbox("IsActive", "Active", true),
		text("Title", "Title", 80),
		text("Department", "Department", 80),
		text("CompanyName", "Company Name", 80),
		typed(soql.TypePhone, "Phone", "Phone", 40),
		lookup("ManagerId", "Manager ID", "User", "Manager", "ManagedUsers"),
		required(picklist("TimeZoneSidKey", "Time Zone", "America/Los_Angeles", "America/New_York", "Europe/London", "Europe/Paris", "GMT")),
		required(picklist("LocaleSidKey", "Locale", "en_US", "en_GB", "fr_FR", "de_DE")),
		required(picklist("LanguageLocaleKey", "Language", "en_US", "fr", "de")),
		required(picklist("EmailEncodingKey", "Email Encoding", "UTF-8", "ISO-8859-1")),
		address("", ""),
	)...)
	for _, f := range user.Fields {
		f.Label = strings.TrimSpace(f.Label) // as Lead's, User's address fields have plain labels
	}
	user.ReadOnly = true
	user.derive = compoundName

	definition := object("ProcessDefinition", "Process Definition", "Process Definitions", "04a",
		nameField(text("Name", "Name", 255)),
		text("DeveloperName", "Unique Name", 80),
		text("TableEnumOrId", "Related Object", 40),
		picklist("Type", "Type", "Approval", "State"),
		picklist("State", "State", "Active", "Inactive", "Obsolete"),
		typed(soql.TypeTextArea, "Description", "Description", 1000),
		picklist("LockType", "Lock Type", "Total", "Admin", "Owner", "Workitem", "Node", "none"),
	)
	definition.ReadOnly = true

	instance := object("ProcessInstance", "Process Instance", "Process Instances", "04g",
		lookup("ProcessDefinitionId", "Approval Process ID", "ProcessDefinition", "ProcessDefinition", ""),
		// TargetObjectId is polymorphic: it points at any approvable record.
		lookup("TargetObjectId", "Target Object ID", "", "TargetObject", "ProcessInstances"),
		restricted(picklist("Status", "Status", "Pending", "Approved", "Rejected", "Removed")),
		lookup("SubmittedById", "Submitted By ID", "User", "SubmittedBy", ""),
		typed(soql.TypeDateTime, "CompletedDate", "Completed Date", 0),
		lookup("LastActorId", "Last Actor ID", "User", "LastActor", ""),
	)
	instance.ReadOnly = true
	withElapsed(instance) // pending.go

	workitem := object("ProcessInstanceWorkitem", "Approval Request", "Approval Requests", "04i",
		lookup("ProcessInstanceId", "Process Instance ID", "ProcessInstance", "ProcessInstance", "Workitems"),
		lookup("ActorId", "Actor ID", "User", "Actor", ""),
		lookup("OriginalActorId", "Original Actor ID", "User", "OriginalActor", ""),
	)
	workitem.ReadOnly = true
	withElapsed(workitem) // pending.go

	step := object("ProcessInstanceStep", "Approval Step", "Approval Steps", "04h",
		lookup("ProcessInstanceId", "Process Instance ID", "ProcessInstance", "ProcessInstance", "Steps"),
		restricted(picklist("StepStatus", "Status", "Approved", "Rejected", "Removed", "Pending", "Started", "NoResponse", "Reassigned", "Fault", "Held")),
		lookup("ActorId", "Actor ID", "User", "Actor", ""),
		lookup("OriginalActorId", "Original Actor ID", "User", "OriginalActor", ""),
		typed(soql.TypeTextArea, "Comments", "Comments", 4000),
	)
	step.ReadOnly = true

	return append([]*Object{account, contact, lead, opportunity, kase, user, definition, instance, workitem, step}, activityObjects()...)
}

func unique(f *Field) *Field     { f.Unique = true; return f }
func restricted(f *Field) *Field { f.RestrictedPicklist = true; return f }

// flatten joins fields and field groups (addresses) in order.
func flatten(parts ...any) []*Field {
	var out []*Field
	for _, p := range parts {
		switch v := p.(type) {
		case *Field:
			out = append(out, v)
		case []*Field:
			out = append(out, v...)
		}
	}
	return out
}

// customPrefixes numbers the key prefixes of custom objects: a01, a02, ...
var customPrefixes atomic.Uint64

// NewCustomObject returns the definition of a custom object as Salesforce
// creates it from CustomObject metadata: the standard system fields, OwnerId
// and a Name field of nameFieldType "Text" (80 characters, required) or
// "AutoNumber" (read-only, numbered "{0}" unless the caller sets the Name
// field's AutoNumber display format before Store.Define). The key prefix is
// the next free "a0X" one. Pass it to Store().Define; add CustomField-style
// fields to Fields first or with Store().AddField.
func NewCustomObject(fullName, label, pluralLabel, nameFieldLabel, nameFieldType string) *Object {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	n := customPrefixes.Add(1)
	prefix := "a" + string(digits[(n/62)%62]) + string(digits[n%62])
	if nameFieldLabel == "" {
		nameFieldLabel = label + " Name"
	}
	name := nameField(required(text("Name", nameFieldLabel, 80)))
	if strings.EqualFold(nameFieldType, "AutoNumber") {
		name = nameField(readOnly(text("Name", nameFieldLabel, 30)))
		name.AutoNumber = "{0}"
	}
	o := object(fullName, label, pluralLabel, prefix, owner(""), name)
	o.Custom = true
	return o
}
