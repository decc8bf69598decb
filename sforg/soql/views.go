package soql

// CodeInvalidTypeForOperation refuses an operation an object does not support.
const CodeInvalidTypeForOperation = "INVALID_TYPE_FOR_OPERATION"

// notQueryable refuses a query whose FROM (or semi-join) names an object read
// only through a parent's subquery, such as ActivityHistory.
func notQueryable(obj ObjectInfo) *Error {
	return plainError(CodeInvalidTypeForOperation, "entity type "+obj.Name+" does not support query")
}
