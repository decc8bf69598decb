package sforg

import (
	"sort"
	"strings"

	"github.com/sfconnect/connector/sforg/soql"
)

// Compound fields (Salesforce's "Compound Fields" pages of the SOAP API
// guide): an address such as BillingAddress groups BillingStreet, BillingCity,
// BillingState, BillingPostalCode, BillingCountry, BillingLatitude,
// BillingLongitude and BillingGeocodeAccuracy; a geolocation field Loc__c
// groups Loc__Latitude__s and Loc__Longitude__s. The compound value is
// read-only (writes go to the components), readable through GET and SOQL (API
// 30.0 and later, all this org serves) as one JSON object keyed city, country,
// geocodeAccuracy, latitude, longitude, postalCode, state, street (or
// latitude, longitude), and null when every component is null. Describe types
// it "address" or "location", and each component names it in
// compoundFieldName. [UNCONFIRMED] the error for a body that writes the
// compound: the one every read-only field gets (INVALID_FIELD_FOR_INSERT_UPDATE).

// geocodeAccuracies are the values of an address's GeocodeAccuracy.
var geocodeAccuracies = []string{"Address", "NearAddress", "Block", "Street", "ExtendedZip", "Zip", "Neighborhood", "City", "County", "State", "Unknown"}

// compoundAddress completes the five text components of an address with its
// latitude, longitude and geocode accuracy, and appends the compound field
// (prefix "Billing" gives BillingAddress; "" gives Address).
func compoundAddress(prefix, label string, parts ...*Field) []*Field {
	parts = append(parts,
		number(soql.TypeDouble, prefix+"Latitude", label+" Latitude", 18, 15),
		number(soql.TypeDouble, prefix+"Longitude", label+" Longitude", 18, 15),
		restricted(picklist(prefix+"GeocodeAccuracy", label+" Geocode Accuracy", geocodeAccuracies...)),
	)
	compound := prefix + "Address"
	for _, f := range parts {
		f.CompoundField = compound
	}
	return append(parts, readOnly(&Field{Name: compound, Label: label + " Address", Type: soql.TypeAddress}))
}

// compoundLocation returns a custom geolocation field Name__c: its two
// components Name__Latitude__s and Name__Longitude__s (numbers with scale
// decimal places) and the compound itself.
func compoundLocation(name, label string, scale int) []*Field {
	base := strings.TrimSuffix(name, "__c")
	parts := []*Field{
		number(soql.TypeDouble, base+"__Latitude__s", label+" (Latitude)", 18, scale),
		number(soql.TypeDouble, base+"__Longitude__s", label+" (Longitude)", 18, scale),
	}
	for _, f := range parts {
		f.CompoundField, f.Custom = name, true
	}
	return append(parts, readOnly(&Field{Name: name, Label: label, Type: soql.TypeLocation, Custom: true}))
}

// compoundKey is the key of a component in its compound value: BillingPostalCode
// in BillingAddress is "postalCode", Loc__Latitude__s in Loc__c is "latitude".
func compoundKey(compound, part string) string {
	var k string
	if strings.HasSuffix(compound, "__c") {
		k = strings.TrimSuffix(strings.TrimPrefix(part, strings.TrimSuffix(compound, "__c")+"__"), "__s")
	} else {
		k = strings.TrimPrefix(part, strings.TrimSuffix(compound, "Address"))
	}
	return strings.ToLower(k[:1]) + k[1:]
}

// deriveCompounds recomputes the compound fields of a record from their
// components. A new map is made on every write, never changed afterwards, so
// copies of a record may share it.
func deriveCompounds(o *Object, fields map[string]any) {
	for _, c := range o.Fields {
		if c.Type != soql.TypeAddress && c.Type != soql.TypeLocation {
			continue
		}
		value := map[string]any{}
		set := false
		for _, f := range o.Fields {
			if f.CompoundField == c.Name {
				v := fields[f.Name]
				if s, ok := v.(string); ok && s == "" {
					v = nil
				}
				value[compoundKey(c.Name, f.Name)] = v
				set = set || v != nil
			}
		}
		if set {
			fields[c.Name] = value
		} else {
			fields[c.Name] = nil
		}
	}
}

// appendCompound writes a compound value with its keys in alphabetical order,
// as Salesforce writes them.
func appendCompound(b []byte, base string, m map[string]any) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = appendValue(b, base, m[k])
	}
	return append(b, '}')
}

// derived recomputes what the platform keeps from other fields after every
// insert and update, once the object's own derive has run: compound fields,
// and the fields of activities (activities.go). changed holds the values the
// write set. The caller holds the write lock.
func (s *Store) derived(o *Object, fields, changed map[string]any) {
	deriveCompounds(o, fields)
	s.deriveActivity(o, fields, changed)
}

// withComponents expands a custom field defined by metadata into the fields it
// makes: a geolocation field into its latitude, longitude and compound; any
// other field into itself.
func withComponents(f *Field) []*Field {
	if f.Type != soql.TypeLocation {
		return []*Field{f}
	}
	return compoundLocation(f.Name, f.Label, f.Scale)
}
