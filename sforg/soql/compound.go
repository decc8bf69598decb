package soql

// Compound fields: an address (BillingAddress, MailingAddress...) or a
// geolocation groups component fields (BillingStreet... BillingLatitude,
// BillingLongitude) into one value, {"city":…,"country":…,"geocodeAccuracy":…,
// "latitude":…,"longitude":…,"postalCode":…,"state":…,"street":…} or
// {"latitude":…,"longitude":…}. A query may select a compound field (its value
// is a map[string]any, or nil when every component is null) but not filter,
// sort or group on it: that is done on the components.
const (
	TypeAddress  = "address"
	TypeLocation = "location"
)

// compoundRefusal fails a compound field used where only a component can be:
// how is "filtered", "sorted" or "grouped". [UNCONFIRMED] the wording for
// compound fields; it is Salesforce's wording for other fields that cannot be
// filtered, sorted or grouped.
func compoundRefusal(q string, pos int, col *column, how string) *Error {
	if col.field.Type != TypeAddress && col.field.Type != TypeLocation {
		return nil
	}
	return posError(CodeInvalidField, q, pos, "field '"+col.field.Name+"' can not be "+how+" in a query call")
}
