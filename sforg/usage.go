package sforg

// API calls by kind. Salesforce counts every REST request against the daily
// allocation (DailyApiRequests, reported in Sforce-Limit-Info), but a whole
// sObject Collections request, a whole Composite request and a whole sObject
// Tree request count as ONE call however many records or subrequests they
// carry (Salesforce's REST API Developer Guide on each resource). Counters()
// reports the calls per kind as "api-calls.<kind>", so tests can assert what a
// batch of work cost; "api-usage" stays the total Salesforce reports.

// Kinds of API call.
const (
	callsREST        = "rest"        // every other /services/data request, Apex REST
	callsComposite   = "composite"   // /composite, /composite/tree
	callsCollections = "collections" // /composite/sobjects
	callsMetadata    = "metadata"    // Metadata API (SOAP) calls
	callsBulk        = "bulk"        // Bulk API 2.0 (/jobs/ingest, /jobs/query): each request one call [UNCONFIRMED]
)

// callKinds maps the routes that are not plain REST calls to their kind.
var callKinds = map[string]string{
	RouteCollectionCreate: callsCollections,
	RouteCollectionUpdate: callsCollections,
	RouteCollectionDelete: callsCollections,
	RouteCollectionGet:    callsCollections,
	RouteCollectionUpsert: callsCollections,
	RouteComposite:        callsComposite,
	RouteCompositeTree:    callsComposite,

	RouteBulkIngestCreate: callsBulk, RouteBulkIngestList: callsBulk, RouteBulkIngestInfo: callsBulk,
	RouteBulkIngestState: callsBulk, RouteBulkIngestDelete: callsBulk, RouteBulkIngestUpload: callsBulk,
	RouteBulkIngestResults: callsBulk, RouteBulkQueryCreate: callsBulk, RouteBulkQueryList: callsBulk,
	RouteBulkQueryInfo: callsBulk, RouteBulkQueryState: callsBulk, RouteBulkQueryDelete: callsBulk,
	RouteBulkQueryResults: callsBulk,
}

// apiKind returns the kind of API call a request to route is.
func apiKind(route string) string {
	if k, ok := callKinds[route]; ok {
		return k
	}
	return callsREST
}

// useAPIFor counts one API call of a kind against the daily allocation. It
// returns the usage after counting and false, counting nothing, when the
// allocation was already used up.
func (s *Server) useAPIFor(kind string) (used, limit int, ok bool) {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	if s.apiUsed >= s.dailyLimit {
		return s.apiUsed, s.dailyLimit, false
	}
	s.apiUsed++
	s.apiCalls[kind]++
	return s.apiUsed, s.dailyLimit, true
}

// addCallCounters adds "api-calls.<kind>" to a Counters() map; the REST,
// composite, collections and bulk kinds are always there. The caller holds s.ctl.
func (s *Server) addCallCounters(out map[string]int) {
	for _, k := range []string{callsREST, callsComposite, callsCollections, callsBulk} {
		out["api-calls."+k] = 0
	}
	for k, v := range s.apiCalls {
		out["api-calls."+k] = v
	}
}
