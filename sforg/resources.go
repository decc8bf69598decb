package sforg

// REST resources beyond records and queries, in their documented shapes:
//
//	GET  /id/{orgId}/{userId}                          identity URL (also ?oauth_token=, ?version=)
//	GET  .../recent[?limit=N]                          recently viewed items
//	GET  .../query?explain=SOQL|listViewId             query plan (query.go hands it here)
//	GET  .../sobjects/{Name}/describe/layouts[/{recordTypeId}]   page layouts
//	GET  .../sobjects/{Name}/describe/namedLayouts/{name}        (none defined: 404)
//	GET  .../sobjects/{Name}/listviews[/{id}[/describe|/results]], .../listviews/recent
//	GET  .../process/rules[/{Name}[/{ruleId}]]         workflow rules (none defined)
//	POST .../process/rules[/{Name}/{ruleId}]           trigger them
//
// The org has no UI, so some of these model the UI's data plainly: see each
// handler's comment for what is [UNCONFIRMED].

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // utcOffset of the user's time zone on any machine

	"github.com/sfconnect/connector/sforg/internal/ids"
	"github.com/sfconnect/connector/sforg/soql"
	"github.com/sfconnect/connector/shared/sfid"
)

// resourceRoutes registers the resources of this file and revoke.go.
func (s *Server) resourceRoutes() {
	s.listViews = &listViewTable{}
	s.handle("/services/oauth2/revoke", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.guarded(RouteRevoke, styleOAuth, w, r, s.revoke)
	}))
	s.handle("/services/data/{version}/recent", s.byMethod(map[string]http.HandlerFunc{"GET": s.api(RouteRecent, s.recent)}))

	layouts := s.byMethod(map[string]http.HandlerFunc{"GET": s.api(RouteLayouts, s.layouts)})
	s.handle("/services/data/{version}/sobjects/{name}/describe/layouts", layouts)
	s.handle("/services/data/{version}/sobjects/{name}/describe/layouts/{recordTypeId}", layouts)
	s.handle("/services/data/{version}/sobjects/{name}/describe/namedLayouts/{layoutName}", layouts)

	views := s.byMethod(map[string]http.HandlerFunc{"GET": s.api(RouteListViews, s.listViewsOf)})
	s.handle("/services/data/{version}/sobjects/{name}/listviews", views)
	s.handle("/services/data/{version}/sobjects/{name}/listviews/{listViewId}", views)
	s.handle("/services/data/{version}/sobjects/{name}/listviews/{listViewId}/describe", views)
	s.handle("/services/data/{version}/sobjects/{name}/listviews/{listViewId}/results", views)

	// Process Rules: GET lists, POST triggers; the list for one object is GET only.
	s.handle("/services/data/{version}/process/rules", s.byMethod(map[string]http.HandlerFunc{
		"GET": s.api(RouteProcessRules, s.processRules), "POST": s.api(RouteProcessRules, s.triggerRules)}))
	s.handle("/services/data/{version}/process/rules/{name}", s.byMethod(map[string]http.HandlerFunc{
		"GET": s.api(RouteProcessRules, s.processRules)}))
	s.handle("/services/data/{version}/process/rules/{name}/{ruleId}", s.byMethod(map[string]http.HandlerFunc{
		"GET": s.api(RouteProcessRules, s.processRules), "POST": s.api(RouteProcessRules, s.triggerRules)}))
}

// ---- identity URL ----

// identityInfo is the identity URL's answer, fields in the documented order.
type identityInfo struct {
	ID                   string            `json:"id"`
	AssertedUser         bool              `json:"asserted_user"`
	UserID               string            `json:"user_id"`
	OrganizationID       string            `json:"organization_id"`
	Username             string            `json:"username"`
	NickName             string            `json:"nick_name"`
	DisplayName          string            `json:"display_name"`
	Email                string            `json:"email"`
	EmailVerified        bool              `json:"email_verified"`
	FirstName            string            `json:"first_name"`
	LastName             string            `json:"last_name"`
	Timezone             string            `json:"timezone"`
	Photos               map[string]string `json:"photos"`
	AddrStreet           *string           `json:"addr_street"`
	AddrCity             *string           `json:"addr_city"`
	AddrState            *string           `json:"addr_state"`
	AddrCountry          *string           `json:"addr_country"`
	AddrZip              *string           `json:"addr_zip"`
	MobilePhone          *string           `json:"mobile_phone"`
	MobilePhoneVerified  bool              `json:"mobile_phone_verified"`
	IsLightningLoginUser bool              `json:"is_lightning_login_user"`
	Status               map[string]any    `json:"status"`
	URLs                 map[string]string `json:"urls"`
	Active               bool              `json:"active"`
	UserType             string            `json:"user_type"`
	Language             string            `json:"language"`
	Locale               string            `json:"locale"`
	UTCOffset            int64             `json:"utcOffset"`
	LastModifiedDate     string            `json:"last_modified_date"`
	IsAppInstalled       bool              `json:"is_app_installed"`
}

// identity serves the identity URL a token response names: who the session
// belongs to and the URLs of the org's APIs. The session comes as a bearer
// token or, as documented, the oauth_token parameter; ?version=NN.N (or
// "latest") fills the {version} placeholder of the URLs. GET, HEAD and POST
// are served ([UNCONFIRMED] POST; other methods get a plain-text 405). A bad
// token is 403 "Bad_OAuth_Token" as plain text, as Salesforce's identity
// service answers; another user's id is 404 "Bad_Id" ([UNCONFIRMED] wording).
// Only the JSON format is modelled (format=xml is answered in JSON), and not
// JSONP.
func (s *Server) identity(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPost:
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		writeText(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	token := bearer(r)
	if token == "" {
		token = r.URL.Query().Get("oauth_token")
	}
	ss, ok := s.sessionFor(token)
	if !ok || r.PathValue("org") != OrgID && r.PathValue("org") != OrgID[:15] {
		writeText(w, http.StatusForbidden, "Bad_OAuth_Token")
		return
	}
	_, user, err := s.store.Get("User", r.PathValue("user"), nil)
	if err != nil || user["Id"] != ss.userID {
		writeText(w, http.StatusNotFound, "Bad_Id")
		return
	}
	str := func(k string) string { v, _ := user[k].(string); return v }
	base := s.baseURL(r)
	version := "{version}"
	switch v := r.URL.Query().Get("version"); {
	case v == "latest":
		version = s.opts.Version
	case s.soapVersionOK(strings.TrimPrefix(v, "v")):
		version = strings.TrimPrefix(v, "v")
	}
	org15 := OrgID[:15]
	rest := base + "/services/data/v" + version + "/"
	urls := map[string]string{
		"enterprise":    base + "/services/Soap/c/" + version + "/" + org15,
		"metadata":      base + "/services/Soap/m/" + version + "/" + org15,
		"partner":       base + "/services/Soap/u/" + version + "/" + org15,
		"rest":          rest,
		"sobjects":      rest + "sobjects/",
		"search":        rest + "search/",
		"query":         rest + "query/",
		"recent":        rest + "recent/",
		"tooling_soap":  base + "/services/Soap/T/" + version + "/" + org15,
		"tooling_rest":  rest + "tooling/",
		"profile":       base + "/" + ss.userID,
		"feeds":         rest + "chatter/feeds",
		"groups":        rest + "chatter/groups",
		"users":         rest + "chatter/users",
		"feed_items":    rest + "chatter/feed-items",
		"feed_elements": rest + "chatter/feed-elements",
		"custom_domain": base,
	}
	// The default profile photo paths of a user without a photo.
	photos := map[string]string{"picture": base + "/profilephoto/005/F", "thumbnail": base + "/profilephoto/005/T"}
	lastModified := str("LastModifiedDate")
	if t, err := time.Parse(storedDateTime, lastModified); err == nil {
		lastModified = t.UTC().Format("2006-01-02T15:04:05Z") // [UNCONFIRMED] form of last_modified_date
	}
	active, _ := user["IsActive"].(bool)
	writeJSON(w, http.StatusOK, identityInfo{
		ID: base + "/id/" + OrgID + "/" + ss.userID, AssertedUser: true, UserID: ss.userID, OrganizationID: OrgID,
		Username: str("Username"), NickName: str("CommunityNickname"), DisplayName: str("Name"), Email: str("Email"),
		EmailVerified: true, FirstName: str("FirstName"), LastName: str("LastName"), Timezone: str("TimeZoneSidKey"),
		Photos: photos, Status: map[string]any{"created_date": nil, "body": nil}, URLs: urls, Active: active,
		UserType: "STANDARD", Language: str("LanguageLocaleKey"), Locale: str("LocaleSidKey"),
		UTCOffset: standardOffsetMillis(str("TimeZoneSidKey"), s.opts.Now()), LastModifiedDate: lastModified, IsAppInstalled: true,
	})
}

// standardOffsetMillis is a time zone's offset from UTC without daylight
// saving time, in milliseconds (Java's raw offset): the smaller of its
// January and July offsets.
func standardOffsetMillis(zone string, now time.Time) int64 {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return 0
	}
	_, jan := time.Date(now.Year(), time.January, 1, 0, 0, 0, 0, loc).Zone()
	_, jul := time.Date(now.Year(), time.July, 1, 0, 0, 0, 0, loc).Zone()
	return int64(min(jan, jul)) * 1000
}

// ---- recently viewed items ----

// maxRecent is the most items /recent returns: RecentlyViewed holds 200.
const maxRecent = 200

// recent answers GET /recent: the user's recently viewed records, newest
// first, each with attributes, Id and its name field.
// [UNCONFIRMED] what counts as viewed: the org has no UI, so records created
// through the API count, newest first, as the sObject basic information's
// recentItems do here; records of objects only the platform writes (User,
// Organization, approval rows) are left out. limit=N (1..200) caps the list;
// another value is ignored.
func (s *Server) recent(w http.ResponseWriter, r *http.Request, c *call) {
	limit := maxRecent
	if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n > 0 && n < maxRecent {
		limit = n
	}
	type item struct {
		o  *Object
		id string
		f  map[string]any
	}
	var all []item
	for _, o := range s.store.Objects() {
		if o.ReadOnly {
			continue
		}
		for _, f := range s.store.recent(o, limit) {
			id, _ := f["Id"].(string)
			all = append(all, item{o, id, f})
		}
	}
	// Ids carry the org's record number in characters 7..15, in base 62
	// with digits < upper < lower case, so they sort by creation.
	slices.SortFunc(all, func(a, b item) int { return strings.Compare(b.id[6:15], a.id[6:15]) })
	out := make([]json.RawMessage, 0, min(limit, len(all)))
	for _, it := range all[:min(limit, len(all))] {
		out = append(out, marshalRecord(it.o, it.id, it.f, recentFields(it.o), c.base))
	}
	writeJSON(w, http.StatusOK, out)
}

// recentFields are the fields of a recently viewed item: Id and the name field.
func recentFields(o *Object) []string {
	only := []string{"Id"}
	for _, f := range o.Fields {
		if f.NameField {
			only = append(only, f.Name)
		}
	}
	return only
}

// ---- query explain ----

// queryPlan is one plan of an explain answer, fields in the documented order.
type queryPlan struct {
	Cardinality          int        `json:"cardinality"`
	Fields               []string   `json:"fields"`
	LeadingOperationType string     `json:"leadingOperationType"`
	Notes                []planNote `json:"notes"`
	RelativeCost         float64    `json:"relativeCost"`
	SObjectCardinality   int        `json:"sobjectCardinality"`
	SObjectType          string     `json:"sobjectType"`
}

type planNote struct {
	Description   string   `json:"description"`
	Fields        []string `json:"fields"`
	TableEnumOrID string   `json:"tableEnumOrId"`
}

// MarshalJSON writes relativeCost as Java does (0.0, not 0).
func (p queryPlan) MarshalJSON() ([]byte, error) {
	type plain queryPlan
	b, err := json.Marshal(plain(p))
	if err != nil {
		return nil, err
	}
	cost := `"relativeCost":` + strconv.FormatFloat(p.RelativeCost, 'f', -1, 64)
	return []byte(strings.Replace(string(b), cost, `"relativeCost":`+javaDouble(p.RelativeCost), 1)), nil
}

// indexFloor keeps an index plan on a small object cheap: Salesforce
// documents a selectivity threshold of 30% of an object's rows, and its own
// example of a 3-row object gives the index plan a cost of 0.
// [UNCONFIRMED] the floor of 1,000 rows is this emulator's choice.
const indexFloor = 1000

// tableScanCost is a table scan's relative cost.
// [UNCONFIRMED] Salesforce's cost model is not public; 0.65 is the value of
// the documented example of a small object, used whatever the size.
const tableScanCost = 0.65

// explain answers GET /query?explain=: the plans Salesforce could run the
// query (or a list view's query, given its id) with, cheapest first, without
// running it for the caller. A query that does not parse or names a missing
// object or field fails as the query would. The plans are plausible, not
// Salesforce's optimizer: an Index plan when the WHERE clause compares an
// indexed field (Id, Name, lookups, owner, CreatedDate, SystemModstamp,
// external ids, unique fields) with = or IN, costing cardinality / (30% of
// the object's rows, at least 1,000), the selectivity threshold Salesforce
// documents for standard indexes; always a TableScan plan; a note for every
// filter on an unindexed field. A list view id that names no view is 400
// INVALID_ID ([UNCONFIRMED] message).
func (q *queryAPI) explain(w http.ResponseWriter, r *http.Request, c *call, text string) {
	s := q.s
	if strings.TrimSpace(text) == "" {
		writeFailure(w, fail(http.StatusBadRequest, "MALFORMED_QUERY", "SOQL statements cannot be empty or null"))
		return
	}
	if sfid.Valid(text) {
		v, ok := s.listViews.byID(s, text)
		if !ok {
			writeFailure(w, fail(http.StatusBadRequest, "INVALID_ID", "invalid ID: %s", text))
			return
		}
		text = v.runQuery(s, c.userID)
	}
	parsed, err := soql.Parse(text)
	if err != nil {
		writeFailure(w, queryFailure(err))
		return
	}
	res, err := s.store.Query(text, false)
	if err != nil {
		writeFailure(w, queryFailure(err))
		return
	}
	o, _ := s.store.Object(parsed.Object)
	rows := s.store.Count(o.Name)
	scan := queryPlan{Cardinality: res.TotalSize, Fields: []string{}, LeadingOperationType: "TableScan", Notes: []planNote{},
		RelativeCost: tableScanCost, SObjectCardinality: rows, SObjectType: o.Name}
	var plans []queryPlan
	for _, f := range filterFields(o, parsed.Where) {
		switch {
		case !indexed(f.field):
			scan.Notes = append(scan.Notes, planNote{Description: "Not considering filter for optimization because unindexed", Fields: []string{f.field.Name}, TableEnumOrID: o.Name})
		case f.equality && len(plans) == 0:
			plans = append(plans, queryPlan{Cardinality: res.TotalSize, Fields: []string{f.field.Name}, LeadingOperationType: "Index", Notes: []planNote{},
				RelativeCost: float64(res.TotalSize) / max(indexFloor, 0.3*float64(rows)), SObjectCardinality: rows, SObjectType: o.Name})
		}
	}
	plans = append(plans, scan)
	slices.SortStableFunc(plans, func(a, b queryPlan) int {
		switch {
		case a.RelativeCost < b.RelativeCost:
			return -1
		case a.RelativeCost > b.RelativeCost:
			return 1
		}
		return 0
	})
	writeJSON(w, http.StatusOK, map[string][]queryPlan{"plans": plans})
}

// filterField is a field a WHERE clause compares, and whether an index can
// serve the comparison (= or IN in a conjunction).
type filterField struct {
	field    *Field
	equality bool
}

// filterFields lists the fields of the object's own that a condition
// compares, first use first.
func filterFields(o *Object, e soql.Expr) []filterField {
	var out []filterField
	seen := map[string]int{}
	var walk func(e soql.Expr, conj bool)
	walk = func(e soql.Expr, conj bool) {
		switch x := e.(type) {
		case *soql.Logic:
			for _, t := range x.Terms {
				walk(t, conj && x.Op == "AND")
			}
		case *soql.Not:
			walk(x.X, false)
		case *soql.Cmp:
			if len(x.Field.Parts) != 1 {
				return
			}
			f, ok := o.Field(x.Field.Parts[0])
			if !ok {
				return
			}
			eq := conj && (x.Op == "=" || x.Op == "IN") && x.Value.Kind != soql.LitNull
			if i, dup := seen[f.Name]; dup {
				out[i].equality = out[i].equality || eq
				return
			}
			seen[f.Name] = len(out)
			out = append(out, filterField{f, eq})
		}
	}
	if e != nil {
		walk(e, true)
	}
	return out
}

// indexed reports whether Salesforce keeps a standard or custom index on a
// field: the documented indexed standard fields, lookups and external ids.
func indexed(f *Field) bool {
	switch f.Name {
	case "Id", "Name", "OwnerId", "CreatedDate", "SystemModstamp", "RecordTypeId", "Email":
		return true
	}
	return f.Type == soql.TypeReference || f.ExternalID || f.Unique
}

// ---- page layouts ----

// masterRecordType is the id of the master record type every object has.
const masterRecordType = "012000000000000AAA"

// layouts answers GET /sobjects/{Name}/describe/layouts/ with the
// DescribeLayoutResult shape (layouts, recordTypeMappings,
// recordTypeSelectorRequired), and /describe/layouts/{recordTypeId} with one
// layout. Every layoutable object has one layout for the master record type:
// a section with its fields two to a row (the audit fields left out). An
// object that is not layoutable, another record type id and any named layout
// are 404 NOT_FOUND ([UNCONFIRMED] the error code for the first).
func (s *Server) layouts(w http.ResponseWriter, r *http.Request, c *call) {
	o, ok := s.object(w, r)
	if !ok {
		return
	}
	rt := r.PathValue("recordTypeId")
	if o.ReadOnly || r.PathValue("layoutName") != "" || rt != "" && sfid.To18(rt) != masterRecordType {
		writeFailure(w, errNotFound)
		return
	}
	layout := describeLayout(o, c.base)
	if rt != "" {
		writeJSON(w, http.StatusOK, layout)
		return
	}
	var picklists []map[string]any
	for _, f := range o.Fields {
		if f.Type == soql.TypePicklist {
			picklists = append(picklists, map[string]any{"picklistName": f.Name, "picklistValues": describeField(o, f).PicklistValues})
		}
	}
	if picklists == nil {
		picklists = []map[string]any{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"layouts": []any{layout},
		"recordTypeMappings": []any{map[string]any{
			"active": true, "available": true, "defaultRecordTypeMapping": true, "developerName": "Master",
			"layoutId": layout["id"], "master": true, "name": "Master", "picklistsForRecordType": picklists,
			"recordTypeId": masterRecordType, "urls": map[string]string{"layout": c.base + "/sobjects/" + o.Name + "/describe/layouts/" + masterRecordType},
		}},
		"recordTypeSelectorRequired": []bool{false},
	})
}

// prefixNumber turns a key prefix into a number, to derive stable ids of an
// object's layout and list views from it.
func prefixNumber(prefix string) uint64 {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var n uint64
	for _, c := range prefix {
		n = n*62 + uint64(strings.IndexRune(digits, c)+1)
	}
	return n
}

// describeLayout is an object's one page layout (DescribeLayout).
func describeLayout(o *Object, base string) map[string]any {
	id := ids.New("00h", "5g0", prefixNumber(o.KeyPrefix))
	section := func(edit bool) map[string]any {
		var rows []map[string]any
		var items []map[string]any
		tab := 0
		for _, f := range o.Fields {
			if auditFields[f.Name] {
				continue
			}
			d := describeField(o, f)
			tab++
			items = append(items, map[string]any{
				"editableForNew": d.Createable, "editableForUpdate": d.Updateable, "label": f.Label,
				"layoutComponents": []any{map[string]any{"details": d, "displayLines": 1, "tabOrder": tab, "type": "Field", "value": f.Name}},
				"placeholder":      false, "required": edit && f.Required,
			})
			if len(items) == 2 {
				rows = append(rows, map[string]any{"layoutItems": items, "numItems": 2})
				items = nil
			}
		}
		if items != nil {
			rows = append(rows, map[string]any{"layoutItems": items, "numItems": len(items)})
		}
		return map[string]any{
			"collapsed": false, "columns": 2, "heading": o.Label + " Information", "layoutRows": rows,
			"layoutSectionId": ids.New("01B", "5g0", prefixNumber(o.KeyPrefix)), "parentLayoutId": id, "rows": len(rows),
			"tabOrder": "TopToBottom", "useCollapsibleSection": false, "useHeading": false,
		}
	}
	return map[string]any{
		"buttonLayoutSection": map[string]any{"detailButtons": []any{}}, "detailLayoutSections": []any{section(false)},
		"editLayoutSections": []any{section(true)}, "feedView": nil, "highlightsPanelLayoutSection": nil, "id": id,
		"multirowEditLayoutSections": []any{}, "offlineLinks": []any{}, "quickActionList": map[string]any{"quickActionListItems": []any{}},
		"relatedContent": nil, "relatedLists": []any{}, "saveOptions": []any{},
	}
}

// ---- list views ----

// listViewTable finds an org's list views. They are derived from the objects
// (ids from key prefixes), so it holds no state.
type listViewTable struct{}

// listView is one list view of an object.
type listView struct {
	o             *Object
	id            string
	developerName string
	label         string
	mine          bool // scope "mine": the user's own records
}

// listColumn is one column of a list view.
type listColumn struct {
	path   string // fieldNameOrPath, e.g. "Owner.Alias"
	label  string
	field  *Field // the field the path ends at
	toLbl  bool   // a picklist selected as toLabel(...)
	hidden bool
}

// viewsOf lists the list views of an object: "All <plural>" and, for objects
// with an owner, "My <plural>" ([UNCONFIRMED] which views a new org has;
// these are the standard objects' usual ones).
func (t *listViewTable) viewsOf(o *Object) []listView {
	if o.ReadOnly {
		return nil
	}
	plural := strings.ReplaceAll(o.LabelPlural, " ", "")
	views := []listView{{o: o, developerName: "All" + plural, label: "All " + o.LabelPlural}}
	if _, ok := o.Field("OwnerId"); ok {
		views = append(views, listView{o: o, developerName: "My" + plural, label: "My " + o.LabelPlural, mine: true})
	}
	for i := range views {
		views[i].id = ids.New("00B", "5g0", prefixNumber(o.KeyPrefix)*8+uint64(i))
	}
	return views
}

// byID finds a list view of any object by its 15- or 18-character id.
func (t *listViewTable) byID(s *Server, id string) (listView, bool) {
	id18 := sfid.To18(id)
	for _, o := range s.store.Objects() {
		for _, v := range t.viewsOf(o) {
			if v.id == id18 {
				return v, true
			}
		}
	}
	return listView{}, false
}

// listColumnsOf names the visible columns of the standard objects' list
// views; other objects show their name field and owner. The Account set and
// its labels are those of a captured My Accounts view (restforce's
// list_view_results fixture).
var listColumnsOf = map[string][][2]string{
	"Account":     {{"Name", "Account Name"}, {"Site", "Account Site"}, {"BillingState", "Billing State/Province"}, {"Phone", "Phone"}, {"Type", "Type"}, {"Owner.Alias", "Account Owner Alias"}},
	"Contact":     {{"Name", "Name"}, {"Account.Name", "Account Name"}, {"Title", "Title"}, {"Phone", "Phone"}, {"Email", "Email"}, {"Owner.Alias", "Contact Owner Alias"}},
	"Lead":        {{"Name", "Name"}, {"Company", "Company"}, {"State", "State/Province"}, {"Email", "Email"}, {"Status", "Lead Status"}, {"Owner.Alias", "Owner Alias"}},
	"Opportunity": {{"Name", "Opportunity Name"}, {"Account.Name", "Account Name"}, {"Amount", "Amount"}, {"CloseDate", "Close Date"}, {"StageName", "Stage"}, {"Owner.Alias", "Opportunity Owner Alias"}},
	"Case":        {{"CaseNumber", "Case Number"}, {"Contact.Name", "Contact Name"}, {"Subject", "Subject"}, {"Status", "Status"}, {"Priority", "Priority"}, {"Owner.Alias", "Case Owner Alias"}},
}

// columns resolves a view's columns: the visible ones, then Id and the
// audit dates, hidden, as Salesforce lists them.
func (v listView) columns(s *Server) []listColumn {
	spec := listColumnsOf[v.o.Name]
	if spec == nil {
		for _, f := range v.o.Fields {
			if f.NameField {
				spec = append(spec, [2]string{f.Name, f.Label})
			}
		}
		if _, ok := v.o.Field("OwnerId"); ok {
			spec = append(spec, [2]string{"Owner.Alias", v.o.Label + " Owner Alias"})
		}
	}
	var out []listColumn
	for _, c := range spec {
		if f := s.resolvePath(v.o, c[0]); f != nil {
			out = append(out, listColumn{path: c[0], label: c[1], field: f, toLbl: f.Type == soql.TypePicklist})
		}
	}
	for _, name := range []string{"Id", "CreatedDate", "LastModifiedDate", "SystemModstamp"} {
		if f, ok := v.o.Field(name); ok {
			label := f.Label
			if name == "Id" {
				label = v.o.Label + " ID"
			}
			out = append(out, listColumn{path: name, label: label, field: f, hidden: true})
		}
	}
	return out
}

// resolvePath follows a dotted field path (Owner.Alias) to its last field.
func (s *Server) resolvePath(o *Object, path string) *Field {
	parts := strings.Split(path, ".")
	for i, p := range parts {
		if i == len(parts)-1 {
			f, _ := o.Field(p)
			return f
		}
		var next *Object
		for _, f := range o.Fields {
			if strings.EqualFold(f.RelationshipName, p) {
				next, _ = s.store.Object(f.ReferenceTo)
			}
		}
		if next == nil {
			return nil
		}
		o = next
	}
	return nil
}

// query is the view's SOQL as describe shows it; runQuery is what the org
// runs for its results (no toLabel, USING SCOPE mine as an owner filter).
func (v listView) query(s *Server) string {
	var sel []string
	for _, c := range v.columns(s) {
		if c.toLbl {
			sel = append(sel, "toLabel("+c.path+")")
		} else {
			sel = append(sel, c.path)
		}
	}
	scope := ""
	if v.mine {
		scope = " USING SCOPE mine"
	}
	return "SELECT " + strings.Join(sel, ", ") + " FROM " + v.o.Name + scope + " ORDER BY " + v.orderField() + " ASC NULLS FIRST, Id ASC NULLS FIRST"
}

func (v listView) runQuery(s *Server, userID string) string {
	var sel []string
	for _, c := range v.columns(s) {
		sel = append(sel, c.path)
	}
	where := ""
	if v.mine {
		where = " WHERE OwnerId = '" + userID + "'"
	}
	return "SELECT " + strings.Join(sel, ", ") + " FROM " + v.o.Name + where + " ORDER BY " + v.orderField() + " ASC NULLS FIRST, Id ASC NULLS FIRST"
}

// orderField is the column a view sorts by: its first one.
func (v listView) orderField() string {
	for _, f := range v.o.Fields {
		if f.NameField {
			return f.Name
		}
	}
	return "Id"
}

// info is a view's entry in the list of an object's views.
func (v listView) info(base string) map[string]any {
	url := base + "/sobjects/" + v.o.Name + "/listviews/" + v.id
	return map[string]any{"describeUrl": url + "/describe", "developerName": v.developerName, "id": v.id, "label": v.label,
		"resultsUrl": url + "/results", "soqlCompatible": true, "url": url}
}

// sortLabels are a column's ascending and descending labels by field type,
// as list views word them (the captured view: "Z-A"/"A-Z" for text, "9-0"/
// "0-9" for phone, "Low to High"/"High to Low" for picklists).
// [UNCONFIRMED] the labels of dates and numbers.
func sortLabels(f *Field) (string, string) {
	switch f.Type {
	case soql.TypePhone, soql.TypeInt, soql.TypeDouble, soql.TypeCurrency, soql.TypePercent:
		return "9-0", "0-9"
	case soql.TypePicklist:
		return "Low to High", "High to Low"
	case soql.TypeDate, soql.TypeDateTime:
		return "New to Old", "Old to New"
	}
	return "Z-A", "A-Z"
}

// columnJSON is a column as describe and results show it.
func (c listColumn) columnJSON(first bool) map[string]any {
	asc, desc := any(nil), any(nil)
	if !c.hidden {
		asc, desc = sortLabels(c.field)
	}
	sel := c.path
	if c.toLbl {
		sel = "toLabel(" + c.path + ")"
	}
	var dir, idx any
	if first {
		dir, idx = "ascending", 0
	}
	return map[string]any{"ascendingLabel": asc, "descendingLabel": desc, "fieldNameOrPath": c.path, "hidden": c.hidden,
		"label": c.label, "selectListItem": sel, "sortDirection": dir, "sortIndex": idx, "sortable": !c.hidden, "type": c.field.Type}
}

// listViewsOf answers the list view resources of an object:
//
//	/listviews              the object's views
//	/listviews/recent       recently viewed views (none: the org has no UI)
//	/listviews/{id}         one view's basic information
//	/listviews/{id}/describe   its columns, order and SOQL
//	/listviews/{id}/results    its rows (?limit= 1..2000, default 25; ?offset=)
//
// A view id of another object, or none, is 404 NOT_FOUND. Result values are
// strings as the captured results show; datetimes in Java's Date.toString
// form ("Fri Aug 01 21:15:46 GMT 2014") as captured ([UNCONFIRMED] the form
// of numbers and dates).
func (s *Server) listViewsOf(w http.ResponseWriter, r *http.Request, c *call) {
	o, ok := s.object(w, r)
	if !ok {
		return
	}
	views := s.listViews.viewsOf(o)
	id := r.PathValue("listViewId")
	if id == "" || id == "recent" {
		list := []any{}
		if id == "" {
			for _, v := range views {
				list = append(list, v.info(c.base))
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"done": true, "listviews": list, "nextRecordsUrl": nil, "size": len(list), "sobjectType": o.Name})
		return
	}
	i := slices.IndexFunc(views, func(v listView) bool { return v.id == sfid.To18(id) })
	if i < 0 {
		writeFailure(w, errNotFound)
		return
	}
	v := views[i]
	cols := v.columns(s)
	colsJSON := make([]map[string]any, len(cols))
	for i, col := range cols {
		colsJSON[i] = col.columnJSON(i == 0)
	}
	switch {
	case strings.HasSuffix(strings.TrimSuffix(r.URL.Path, "/"), "/describe"):
		scope := "everything"
		if v.mine {
			scope = "mine"
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"columns": colsJSON, "id": v.id,
			"orderBy":         []any{map[string]any{"fieldNameOrPath": v.orderField(), "nullsPosition": "first", "sortDirection": "ascending"}, map[string]any{"fieldNameOrPath": "Id", "nullsPosition": "first", "sortDirection": "ascending"}},
			"query":           v.query(s),
			"relatedEntityId": nil, "scope": scope, "scopeEntityId": nil, "sobjectType": o.Name,
			"whereCondition": map[string]any{"conditions": []any{}, "conjunction": "and"},
		})
	case strings.HasSuffix(strings.TrimSuffix(r.URL.Path, "/"), "/results"):
		s.listViewResults(w, r, c, v, cols, colsJSON)
	default:
		writeJSON(w, http.StatusOK, v.info(c.base))
	}
}

// listViewResults runs a view's query and pages its rows.
func (s *Server) listViewResults(w http.ResponseWriter, r *http.Request, c *call, v listView, cols []listColumn, colsJSON []map[string]any) {
	limit, offset := 25, 0
	if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n > 0 {
		limit = min(n, 2000)
	}
	if n, err := strconv.Atoi(r.URL.Query().Get("offset")); err == nil && n > 0 {
		offset = n
	}
	res, err := s.store.Query(v.runQuery(s, c.userID), false)
	if err != nil {
		writeFailure(w, queryFailure(err))
		return
	}
	records := []any{}
	for _, rec := range res.Records[min(offset, len(res.Records)):min(offset+limit, len(res.Records))] {
		values := make([]any, 0, len(cols))
		for i, col := range cols {
			var val any
			if i < len(rec.Fields) {
				val = listValue(rec.Fields[i].Value)
			}
			values = append(values, map[string]any{"fieldNameOrPath": col.path, "value": val})
		}
		records = append(records, map[string]any{"columns": values})
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"columns": colsJSON, "developerName": v.developerName, "done": offset+limit >= len(res.Records), "id": v.id,
		"label": v.label, "records": records, "size": len(res.Records),
	})
}

// listValue renders a selected value as list view results carry it: a string
// (a parent path's last field for Owner.Alias), or null.
func listValue(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case *soql.Record:
		if x == nil || len(x.Fields) == 0 {
			return nil
		}
		return listValue(x.Fields[len(x.Fields)-1].Value)
	case string:
		if t, err := time.Parse(storedDateTime, x); err == nil {
			return t.UTC().Format("Mon Jan 02 15:04:05 GMT 2006")
		}
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

// ---- process rules ----

// processRules answers GET /process/rules[/{Name}[/{ruleId}]]. The org has
// no workflow rules (they are retired in favour of flows), so the lists are
// the documented {"rules":{}} with no object in it, and a rule id is 404
// NOT_FOUND, as is an unknown object.
func (s *Server) processRules(w http.ResponseWriter, r *http.Request, c *call) {
	if r.PathValue("name") != "" {
		if _, ok := s.object(w, r); !ok {
			return
		}
	}
	if r.PathValue("ruleId") != "" {
		writeFailure(w, errNotFound)
		return
	}
	writeJSON(w, http.StatusOK, map[string]map[string]any{"rules": {}})
}

// triggerRules answers POST /process/rules ({"contextIds":[ids]}): every
// active rule of the records' object is evaluated; with none, nothing happens
// and the answer is the documented {"errors":null,"success":true}. The body
// must be that object with ids of live records ([UNCONFIRMED] the checks on
// it: a bad id is 400 MALFORMED_ID, a missing record 404 NOT_FOUND). POST to
// /process/rules/{Name}/{ruleId} names a rule, and there is none: 404.
func (s *Server) triggerRules(w http.ResponseWriter, r *http.Request, c *call) {
	if r.PathValue("name") != "" {
		if _, ok := s.object(w, r); !ok {
			return
		}
		writeFailure(w, errNotFound)
		return
	}
	var body struct {
		ContextIDs []string `json:"contextIds"`
	}
	if f := decodeJSON(r, &body); f != nil {
		writeFailure(w, f)
		return
	}
	for _, id := range body.ContextIDs {
		id18 := sfid.To18(id)
		if id18 == "" {
			writeFailure(w, fail(http.StatusBadRequest, "MALFORMED_ID", "malformed id %s", id))
			return
		}
		if _, ok := s.store.recordObject(id18); !ok {
			writeFailure(w, errNotFound)
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"errors": nil, "success": true})
}

// recordObject names the object of a live record.
func (s *Store) recordObject(id18 string) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.rows[id18]
	if !ok || r.fields["IsDeleted"] == true {
		return "", false
	}
	return r.object.Name, true
}
