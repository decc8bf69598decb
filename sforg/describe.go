package sforg

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/sfconnect/connector/sforg/soql"
)

// globalEntry is one sObject of describeGlobal (and a basic-info
// objectDescribe); fields in Salesforce's (alphabetical) order.
type globalEntry struct {
	Activateable        bool              `json:"activateable"`
	Createable          bool              `json:"createable"`
	Custom              bool              `json:"custom"`
	CustomSetting       bool              `json:"customSetting"`
	Deletable           bool              `json:"deletable"`
	DeprecatedAndHidden bool              `json:"deprecatedAndHidden"`
	FeedEnabled         bool              `json:"feedEnabled"`
	HasSubtypes         bool              `json:"hasSubtypes"`
	IsSubtype           bool              `json:"isSubtype"`
	KeyPrefix           *string           `json:"keyPrefix"`
	Label               string            `json:"label"`
	LabelPlural         string            `json:"labelPlural"`
	Layoutable          bool              `json:"layoutable"`
	Mergeable           bool              `json:"mergeable"`
	MruEnabled          bool              `json:"mruEnabled"`
	Name                string            `json:"name"`
	Queryable           bool              `json:"queryable"`
	Replicateable       bool              `json:"replicateable"`
	Retrieveable        bool              `json:"retrieveable"`
	Searchable          bool              `json:"searchable"`
	Triggerable         bool              `json:"triggerable"`
	Undeletable         bool              `json:"undeletable"`
	Updateable          bool              `json:"updateable"`
	URLs                map[string]string `json:"urls"`
}

func entry(o *Object, base string) globalEntry {
	writable := !o.ReadOnly
	var prefix *string
	if o.KeyPrefix != "" {
		p := o.KeyPrefix
		prefix = &p
	}
	urls := map[string]string{
		"sobject":     base + "/sobjects/" + o.Name,
		"describe":    base + "/sobjects/" + o.Name + "/describe",
		"rowTemplate": base + "/sobjects/" + o.Name + "/{ID}",
	}
	return globalEntry{
		Createable: writable, Custom: o.Custom, Deletable: writable, FeedEnabled: writable && !o.Custom,
		KeyPrefix: prefix, Label: o.Label, LabelPlural: o.LabelPlural, Layoutable: writable, Mergeable: o.Name == "Account" || o.Name == "Contact" || o.Name == "Lead" || o.Name == "Case",
		MruEnabled: writable, Name: o.Name, Queryable: true, Replicateable: true, Retrieveable: true, Searchable: writable,
		Triggerable: writable, Undeletable: writable, Updateable: writable, URLs: urls,
	}
}

// describeGlobal answers GET /sobjects/.
func (s *Server) describeGlobal(w http.ResponseWriter, r *http.Request, c *call) {
	if notModified(w, r, s.store.metadataChanged()) { // conditional.go
		return
	}
	objects := s.store.Objects()
	list := make([]globalEntry, 0, len(objects))
	for _, o := range objects {
		list = append(list, entry(o, c.base))
	}
	writeJSON(w, http.StatusOK, struct {
		Encoding     string        `json:"encoding"`
		MaxBatchSize int           `json:"maxBatchSize"`
		SObjects     []globalEntry `json:"sobjects"`
	}{"UTF-8", 200, list})
}

// sobjectInfo answers GET /sobjects/{Name}/: the object's summary and its most
// recently created records.
func (s *Server) sobjectInfo(w http.ResponseWriter, r *http.Request, c *call) {
	o, ok := s.object(w, r)
	if !ok {
		return
	}
	only := []string{"Id"}
	for _, fd := range o.Fields {
		if fd.NameField {
			only = append(only, fd.Name)
		}
	}
	recent := s.store.recent(o, 25)
	items := make([]json.RawMessage, 0, len(recent))
	for _, f := range recent {
		id, _ := f["Id"].(string)
		// "attributes" first, then Id and the name field, as records are written.
		items = append(items, marshalRecord(o, id, f, only, c.base))
	}
	writeJSON(w, http.StatusOK, struct {
		ObjectDescribe globalEntry       `json:"objectDescribe"`
		RecentItems    []json.RawMessage `json:"recentItems"`
	}{entry(o, c.base), items})
}

// recent returns copies of an object's newest live records, newest first.
func (s *Store) recent(o *Object, n int) []map[string]any {
	s.mu.RLock()
	defer s.mu.RUnlock()
	rows := s.order[o.Name]
	var out []map[string]any
	for i := len(rows) - 1; i >= 0 && len(out) < n; i-- {
		if rows[i].fields["IsDeleted"] == true {
			continue
		}
		cp := make(map[string]any, len(rows[i].fields))
		for k, v := range rows[i].fields {
			cp[k] = v
		}
		out = append(out, cp)
	}
	return out
}

// picklistEntry is one value of a picklist field's describe.
type picklistEntry struct {
	Active       bool    `json:"active"`
	DefaultValue bool    `json:"defaultValue"`
	Label        string  `json:"label"`
	ValidFor     *string `json:"validFor"`
	Value        string  `json:"value"`
}

// fieldDescribe is one field of a describe, in Salesforce's (alphabetical) order.
type fieldDescribe struct {
	Aggregatable            bool            `json:"aggregatable"`
	AutoNumber              bool            `json:"autoNumber"`
	ByteLength              int             `json:"byteLength"`
	Calculated              bool            `json:"calculated"`
	CalculatedFormula       *string         `json:"calculatedFormula"`
	CascadeDelete           bool            `json:"cascadeDelete"`
	CaseSensitive           bool            `json:"caseSensitive"`
	CompoundFieldName       *string         `json:"compoundFieldName"`
	ControllerName          *string         `json:"controllerName"`
	Createable              bool            `json:"createable"`
	Custom                  bool            `json:"custom"`
	DefaultValue            any             `json:"defaultValue"`
	DefaultValueFormula     *string         `json:"defaultValueFormula"`
	DefaultedOnCreate       bool            `json:"defaultedOnCreate"`
	DependentPicklist       bool            `json:"dependentPicklist"`
	DeprecatedAndHidden     bool            `json:"deprecatedAndHidden"`
	Digits                  int             `json:"digits"`
	ExternalID              bool            `json:"externalId"`
	Filterable              bool            `json:"filterable"`
	Groupable               bool            `json:"groupable"`
	HTMLFormatted           bool            `json:"htmlFormatted"`
	IDLookup                bool            `json:"idLookup"`
	InlineHelpText          *string         `json:"inlineHelpText"`
	Label                   string          `json:"label"`
	Length                  int             `json:"length"`
	Name                    string          `json:"name"`
	NameField               bool            `json:"nameField"`
	NamePointing            bool            `json:"namePointing"`
	Nillable                bool            `json:"nillable"`
	PicklistValues          []picklistEntry `json:"picklistValues"`
	PolymorphicForeignKey   bool            `json:"polymorphicForeignKey"`
	Precision               int             `json:"precision"`
	ReferenceTargetField    *string         `json:"referenceTargetField"`
	ReferenceTo             []string        `json:"referenceTo"`
	RelationshipName        *string         `json:"relationshipName"`
	RelationshipOrder       *int            `json:"relationshipOrder"`
	RestrictedPicklist      bool            `json:"restrictedPicklist"`
	Scale                   int             `json:"scale"`
	SoapType                string          `json:"soapType"`
	Sortable                bool            `json:"sortable"`
	Type                    string          `json:"type"`
	Unique                  bool            `json:"unique"`
	Updateable              bool            `json:"updateable"`
	WriteRequiresMasterRead bool            `json:"writeRequiresMasterRead"`
}

var soapTypes = map[string]string{
	soql.TypeID: "tns:ID", soql.TypeReference: "tns:ID", soql.TypeBoolean: "xsd:boolean", soql.TypeInt: "xsd:int",
	soql.TypeDouble: "xsd:double", soql.TypeCurrency: "xsd:double", soql.TypePercent: "xsd:double",
	soql.TypeDate: "xsd:date", soql.TypeDateTime: "xsd:dateTime",
	soql.TypeAddress: "urn:address", soql.TypeLocation: "urn:location",
}

// auditFields are filled by the platform on every insert.
var auditFields = map[string]bool{"Id": true, "IsDeleted": true, "CreatedDate": true, "CreatedById": true, "LastModifiedDate": true, "LastModifiedById": true, "SystemModstamp": true}

func describeField(o *Object, f *Field) fieldDescribe {
	writable := !o.ReadOnly && !f.ReadOnly
	soapType := soapTypes[f.Type]
	if soapType == "" {
		soapType = "xsd:string"
	}
	length, byteLength := 0, 0
	switch f.Type {
	case soql.TypeID, soql.TypeReference:
		length, byteLength = 18, 18
	case soql.TypeString, soql.TypeTextArea, soql.TypePicklist, soql.TypeEmail, soql.TypePhone, soql.TypeURL:
		length, byteLength = f.Length, f.Length*3
	}
	longText := f.Type == soql.TypeTextArea && f.Length > 255
	numeric := f.Type == soql.TypeDouble || f.Type == soql.TypeCurrency || f.Type == soql.TypePercent
	d := fieldDescribe{
		Aggregatable:       !longText,
		AutoNumber:         f.AutoNumber != "",
		ByteLength:         byteLength,
		Createable:         writable,
		Custom:             f.Custom,
		DefaultValue:       f.Default,
		DefaultedOnCreate:  f.Default != nil || f.AutoNumber != "" || auditFields[f.Name] || f.Name == "OwnerId" || f.Type == soql.TypeBoolean,
		ExternalID:         f.ExternalID,
		Filterable:         !longText,
		Groupable:          !longText && !numeric && f.Type != soql.TypeDateTime,
		IDLookup:           f.Name == "Id" || f.ExternalID || f.AutoNumber != "" || f.Name == "Email" || f.Name == "Username" || (f.NameField && f.Type == soql.TypeString && !f.ReadOnly),
		Label:              f.Label,
		Length:             length,
		Name:               f.Name,
		NameField:          f.NameField,
		Nillable:           !f.Required && f.Type != soql.TypeBoolean && !auditFields[f.Name] && f.AutoNumber == "" && !(f.NameField && f.ReadOnly && f.Name == "Name"),
		PicklistValues:     []picklistEntry{},
		ReferenceTo:        []string{},
		RestrictedPicklist: f.RestrictedPicklist,
		SoapType:           soapType,
		Sortable:           !longText,
		Type:               f.Type,
		Unique:             f.Unique,
		Updateable:         writable && f.Name != "Id",
	}
	if f.Type == soql.TypeBoolean && f.Default == nil {
		d.DefaultValue = false
	}
	if f.CompoundField != "" {
		d.CompoundFieldName = &f.CompoundField
	}
	if f.Type == soql.TypeAddress || f.Type == soql.TypeLocation {
		// A compound field is read whole; filters, sorts and groups take its
		// components (DISTANCE() on a location is not emulated).
		d.Aggregatable, d.Filterable, d.Groupable, d.Sortable = false, false, false, false
	}
	if f.Type == soql.TypeBoolean {
		d.Groupable = true
	}
	if f.Type == soql.TypeInt {
		d.Digits = f.Precision
	}
	if numeric {
		d.Precision, d.Scale = f.Precision, f.Scale
	}
	for _, v := range f.Picklist {
		d.PicklistValues = append(d.PicklistValues, picklistEntry{Active: true, DefaultValue: f.Default == v, Label: v, Value: v})
	}
	if f.Type == soql.TypeReference {
		if f.ReferenceTo != "" {
			d.ReferenceTo = []string{f.ReferenceTo}
		} else {
			d.PolymorphicForeignKey = true
			d.ReferenceTo = append(d.ReferenceTo, f.ReferenceTargets...)
		}
		if f.RelationshipName != "" {
			rel := f.RelationshipName
			d.RelationshipName = &rel
		}
	}
	return d
}

// childRelationship is one entry of a describe's childRelationships.
type childRelationship struct {
	CascadeDelete       bool     `json:"cascadeDelete"`
	ChildSObject        string   `json:"childSObject"`
	DeprecatedAndHidden bool     `json:"deprecatedAndHidden"`
	Field               string   `json:"field"`
	JunctionIDListNames []string `json:"junctionIdListNames"`
	JunctionReferenceTo []string `json:"junctionReferenceTo"`
	RelationshipName    *string  `json:"relationshipName"`
	RestrictedDelete    bool     `json:"restrictedDelete"`
}

// describe answers GET /sobjects/{Name}/describe/.
func (s *Server) describe(w http.ResponseWriter, r *http.Request, c *call) {
	o, ok := s.object(w, r)
	if !ok || notModified(w, r, o.changed) { // conditional.go
		return
	}
	fields := make([]fieldDescribe, 0, len(o.Fields))
	for _, f := range o.Fields {
		fields = append(fields, describeField(o, f))
	}
	children := []childRelationship{}
	for _, child := range s.store.Objects() {
		for _, f := range child.Fields {
			if f.Type != soql.TypeReference || !strings.EqualFold(f.ReferenceTo, o.Name) || f.ReadOnly && auditFields[f.Name] {
				continue
			}
			cr := childRelationship{ChildSObject: child.Name, Field: f.Name, JunctionIDListNames: []string{}, JunctionReferenceTo: []string{}}
			if f.ChildRelationship != "" {
				name := f.ChildRelationship
				cr.RelationshipName = &name
			}
			children = append(children, cr)
		}
	}
	children = append(children, activityDescribeChildren(o.Name)...)
	e := entry(o, c.base)
	e.URLs["layouts"] = c.base + "/sobjects/" + o.Name + "/describe/layouts"
	writeJSON(w, http.StatusOK, map[string]any{
		"actionOverrides": []any{}, "activateable": e.Activateable, "childRelationships": children,
		"compactLayoutable": e.Layoutable, "createable": e.Createable, "custom": e.Custom, "customSetting": false,
		"deletable": e.Deletable, "deprecatedAndHidden": false, "feedEnabled": e.FeedEnabled, "fields": fields,
		"hasSubtypes": false, "isSubtype": false, "keyPrefix": e.KeyPrefix, "label": o.Label, "labelPlural": o.LabelPlural,
		"layoutable": e.Layoutable, "listviewable": nil, "lookupLayoutable": nil, "mergeable": e.Mergeable,
		"mruEnabled": e.MruEnabled, "name": o.Name, "namedLayoutInfos": []any{}, "networkScopeFieldName": nil,
		"queryable": true, "recordTypeInfos": []any{}, "replicateable": true, "retrieveable": true,
		"searchLayoutable": e.Searchable, "searchable": e.Searchable, "supportedScopes": []map[string]string{{"label": "All " + o.LabelPlural, "name": "everything"}},
		"triggerable": e.Triggerable, "undeletable": e.Undeletable, "updateable": e.Updateable, "urls": e.URLs,
	})
}
