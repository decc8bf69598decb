package sforg

import (
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/sfconnect/connector/sforg/soql"
	"github.com/sfconnect/connector/shared/sfid"
)

// validate checks a create (insert) or update body the way the REST API does and
// returns the values keyed by canonical field name. self is the id of the record
// being updated ("" on insert), so a unique value may stay on its own record.
// The caller holds the write lock.
func (s *Store) validate(o *Object, fields map[string]any, insert bool, self string) (map[string]any, error) {
	if o.ReadOnly {
		return nil, fail(http.StatusBadRequest, "INVALID_TYPE_FOR_OPERATION", "entity type %s does not support %s", o.Name, map[bool]string{true: "insert", false: "update"}[insert])
	}
	clean := make(map[string]any, len(fields))
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		v := fields[name]
		if strings.EqualFold(name, "attributes") {
			continue
		}
		if strings.EqualFold(name, "Id") {
			if insert {
				return nil, fail(http.StatusBadRequest, "INVALID_FIELD", "The Id field should not be specified in the sobject data.")
			}
			continue
		}
		f, ok := o.Field(name)
		if !ok {
			return nil, fail(http.StatusBadRequest, "INVALID_FIELD", "No such column '%s' on sobject of type %s", name, o.Name)
		}
		if f.ReadOnly {
			return nil, failFields(http.StatusBadRequest, "INVALID_FIELD_FOR_INSERT_UPDATE", []string{f.Name}, "Unable to create/update fields: %s. Please check the security settings of this field and verify that it is read/write for your profile or permission set.", f.Name)
		}
		cv, err := coerce(o, f, v)
		if err != nil {
			return nil, err
		}
		if f.Type == soql.TypeReference && cv != nil {
			r, ok := s.rows[cv.(string)]
			if !ok || !refAccepts(f, r.object) {
				return nil, failFields(http.StatusBadRequest, "MALFORMED_ID", []string{f.Name}, "%s: id value of incorrect type: %v", f.Label, v)
			}
		}
		clean[f.Name] = cv
	}
	var missing []string
	for _, f := range o.Fields {
		v, given := clean[f.Name]
		if f.Required && ((insert && !given && f.Default == nil) || (given && (v == nil || v == ""))) {
			missing = append(missing, f.Name)
		}
	}
	if len(missing) > 0 {
		return nil, failFields(http.StatusBadRequest, "REQUIRED_FIELD_MISSING", missing, "Required fields are missing: [%s]", strings.Join(missing, ", "))
	}
	for name, v := range clean {
		f, _ := o.Field(name)
		if !f.Unique || v == nil {
			continue
		}
		for _, r := range s.order[o.Name] {
			if id := r.fields["Id"].(string); id != self && r.fields["IsDeleted"] != true && equalValue(r.fields[f.Name], v) {
				return nil, failFields(http.StatusBadRequest, "DUPLICATE_VALUE", []string{f.Name}, "duplicate value found: %s duplicates value on record with id: %s", f.Name, id)
			}
		}
	}
	return clean, nil
}

// coerce converts a JSON value to the stored form of the field's type, or fails
// as Salesforce does when the JSON type does not fit.
func coerce(o *Object, f *Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	bad := func() error {
		return fail(http.StatusBadRequest, "JSON_PARSER_ERROR", "Cannot deserialize instance of %s from %s value %v or request may be missing a required field", jsonKind(f.Type), jsonKindOf(v), v)
	}
	switch f.Type {
	case soql.TypeBoolean:
		b, ok := v.(bool)
		if !ok {
			return nil, bad()
		}
		return b, nil
	case soql.TypeInt, soql.TypeDouble, soql.TypeCurrency, soql.TypePercent:
		switch n := v.(type) {
		case float64:
			return n, nil
		case string:
			return nil, bad()
		}
		return nil, bad()
	case soql.TypeReference, soql.TypeID:
		str, ok := v.(string)
		if !ok {
			return nil, bad()
		}
		if str == "" {
			return nil, nil
		}
		id := sfid.To18(str)
		if id == "" {
			return nil, failFields(http.StatusBadRequest, "MALFORMED_ID", []string{f.Name}, "%s: id value of incorrect type: %s", f.Label, str)
		}
		return id, nil
	case soql.TypeDate, soql.TypeDateTime:
		str, ok := v.(string)
		if !ok {
			return nil, bad()
		}
		if str == "" {
			return nil, nil
		}
		t, ok := parseTime(str, f.Type == soql.TypeDate)
		if !ok {
			return nil, bad()
		}
		if f.Type == soql.TypeDate {
			return t.Format("2006-01-02"), nil
		}
		return t.UTC().Format("2006-01-02T15:04:05.000+0000"), nil
	case soql.TypePicklist:
		str, ok := v.(string)
		if !ok {
			return nil, bad()
		}
		if f.RestrictedPicklist && !containsFold(f.Picklist, str) {
			return nil, failFields(http.StatusBadRequest, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", []string{f.Name}, "%s: bad value for restricted picklist field: %s", f.Label, str)
		}
		return str, nil
	default:
		switch x := v.(type) {
		case string:
			if f.Length > 0 && len([]rune(x)) > f.Length {
				return nil, failFields(http.StatusBadRequest, "STRING_TOO_LONG", []string{f.Name}, "%s: data value too large: %s (max length=%d)", f.Label, truncate(x, 40), f.Length)
			}
			return x, nil
		case float64, bool:
			return nil, bad()
		}
		return nil, bad()
	}
}

// parseTime reads the date and dateTime forms the REST API accepts. A date
// field also takes a dateTime and keeps its date part.
func parseTime(s string, date bool) (time.Time, bool) {
	layouts := []string{"2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05-0700", time.RFC3339Nano, time.RFC3339, "2006-01-02T15:04:05.000Z0700", "2006-01-02T15:04:05"}
	if date {
		layouts = append([]string{"2006-01-02"}, layouts...)
	}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func jsonKind(t string) string {
	switch t {
	case soql.TypeDate:
		return "date"
	case soql.TypeDateTime:
		return "datetime"
	case soql.TypeBoolean:
		return "boolean"
	case soql.TypeInt, soql.TypeDouble, soql.TypeCurrency, soql.TypePercent:
		return "double"
	}
	return "string"
}

func jsonKindOf(v any) string {
	switch v.(type) {
	case string:
		return "VALUE_STRING"
	case float64:
		return "VALUE_NUMBER_FLOAT"
	case bool:
		return "VALUE_TRUE"
	case map[string]any:
		return "START_OBJECT"
	case []any:
		return "START_ARRAY"
	}
	return "VALUE"
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "..."
}
