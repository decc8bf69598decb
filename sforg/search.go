package sforg

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/sfconnect/connector/sforg/soql"
)

// Search: SOSL and parameterized search (the engine is soql.Search, whose
// comment lists what is emulated and what is [UNCONFIRMED]).
//
//	GET /services/data/vNN.N/search/?q=FIND {Acme} IN NAME FIELDS RETURNING Account(Id, Name)
//	GET /services/data/vNN.N/parameterizedSearch/?q=Acme&sobject=Account&Account.fields=Id,Name&Account.limit=10
//	POST /services/data/vNN.N/parameterizedSearch/ {"q":"Acme","sobjects":[{"name":"Account","fields":["Id"]}]}
//
// Since API 36.0 the answer is {"searchRecords":[record, ...]}; before, the
// bare array of records (the shape restforce's v23.0 fixture shows).
// Parameterized search exists from 36.0. [UNCONFIRMED] 36.0 as the boundary
// of the shape (Salesforce's 35.0 documentation shows the array, 37.0 the
// object); the errors for a missing q (MALFORMED_SEARCH "No search term
// found..." for SOSL, MISSING_ARGUMENT for parameterized search), for a bad
// "in" scope (INVALID_SEARCH_SCOPE) and for an unreadable limit.

// Route names of the search resources (faults.go).
const (
	RouteSearch              = "search"               // GET .../search/?q=
	RouteParameterizedSearch = "parameterized-search" // GET|POST .../parameterizedSearch/
)

// searchObjectsSince is the first API version with parameterizedSearch and the
// {"searchRecords":[...]} answer.
const searchObjectsSince = 36.0

// searchRoutes registers the search resources.
func (s *Server) searchRoutes() {
	s.handle("/services/data/{version}/search", s.byMethod(map[string]http.HandlerFunc{"GET": s.api(RouteSearch, s.search)}))
	s.handle("/services/data/{version}/parameterizedSearch", s.byMethod(map[string]http.HandlerFunc{
		"GET":  s.api(RouteParameterizedSearch, s.parameterizedSearch),
		"POST": s.api(RouteParameterizedSearch, s.parameterizedSearch),
	}))
}

// search answers GET /search/?q=<SOSL>.
func (s *Server) search(w http.ResponseWriter, r *http.Request, c *call) {
	q := r.URL.Query().Get("q")
	if strings.TrimSpace(q) == "" {
		writeFailure(w, fail(http.StatusBadRequest, soql.CodeMalformedSearch, "No search term found. The search term must be enclosed in braces."))
		return
	}
	s.runSearch(w, c, q)
}

func (s *Server) runSearch(w http.ResponseWriter, c *call, sosl string) {
	res, err := s.store.Search(sosl)
	if err != nil {
		writeFailure(w, queryFailure(err))
		return
	}
	b := make([]byte, 0, 64+len(res.Records)*128)
	if c.atLeast(searchObjectsSince) {
		b = append(b, `{"searchRecords":`...)
	}
	b = append(b, '[')
	for i, rec := range res.Records {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendRecord(b, c.base, rec)
	}
	b = append(b, ']')
	if c.atLeast(searchObjectsSince) {
		b = append(b, '}')
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	w.Write(b) //nolint:errcheck // the client went away
}

// Search runs SOSL over the store under its read lock.
func (s *Store) Search(sosl string) (*soql.Result, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return soql.Search(source{s}, sosl)
}

// SearchObjects lists the objects a search without RETURNING covers: the
// searchable ones (describe's searchable), by name.
func (src source) SearchObjects() []string {
	var out []string
	for _, o := range src.s.objects {
		if !o.ReadOnly && o.view == nil {
			out = append(out, o.Name)
		}
	}
	slices.Sort(out)
	return out
}

// nameFieldExtras are the fields Salesforce also searches IN NAME FIELDS, per
// object (its SOSL reference lists them).
var nameFieldExtras = map[string][]string{
	"Account": {"Website", "Site"},
	"Case":    {"SuppliedName", "SuppliedCompany", "Subject"},
	"Lead":    {"Company"},
	"Task":    {"Subject"},
	"Event":   {"Subject"},
	"User":    {"CommunityNickname"},
}

// SearchFields lists the fields of object a search group reads: ALL every
// text field (numbers, dates, picklists and ids are not searchable), NAME the
// name fields, EMAIL and PHONE the fields of that type.
func (src source) SearchFields(object, group string) []string {
	o, ok := src.s.objects[strings.ToLower(object)]
	if !ok {
		return nil
	}
	var out []string
	for _, f := range o.Fields {
		var in bool
		switch group {
		case "NAME":
			in = f.NameField || slices.Contains(nameFieldExtras[o.Name], f.Name)
		case "EMAIL":
			in = f.Type == soql.TypeEmail
		case "PHONE":
			in = f.Type == soql.TypePhone
		default:
			switch f.Type {
			case soql.TypeString, soql.TypeTextArea, soql.TypeEmail, soql.TypePhone, soql.TypeURL:
				in = true
			}
		}
		if in {
			out = append(out, f.Name)
		}
	}
	return out
}

// searchSpec is one object of a parameterized search.
type searchSpec struct {
	Name    string   `json:"name"`
	Fields  []string `json:"fields"`
	Where   string   `json:"where"`
	Limit   *int     `json:"limit"`
	OrderBy string   `json:"-"`
}

// searchParams are a parameterized search's parameters (GET query or POST body).
type searchParams struct {
	Q            string       `json:"q"`
	In           string       `json:"in"`
	Fields       []string     `json:"fields"`
	SObjects     []searchSpec `json:"sobjects"`
	OverallLimit *int         `json:"overallLimit"`
	DefaultLimit *int         `json:"defaultLimit"`
}

// parameterizedSearch answers /parameterizedSearch/ by turning its parameters
// into the SOSL statement they stand for.
func (s *Server) parameterizedSearch(w http.ResponseWriter, r *http.Request, c *call) {
	if !c.atLeast(searchObjectsSince) {
		writeFailure(w, errNotFound)
		return
	}
	var p searchParams
	if r.Method == http.MethodPost {
		if f := decodeJSON(r, &p); f != nil {
			writeFailure(w, f)
			return
		}
	} else if f := p.fromQuery(r); f != nil {
		writeFailure(w, f)
		return
	}
	sosl, f := p.sosl()
	if f != nil {
		writeFailure(w, f)
		return
	}
	s.runSearch(w, c, sosl)
}

// fromQuery reads the GET form: q, in, fields, sobject (repeated),
// <sobject>.fields, <sobject>.where, <sobject>.limit, overallLimit, defaultLimit.
// Parameters the emulator has no use for (spellCorrection, dataCategory,
// division, snippet, metadata...) are accepted and ignored.
func (p *searchParams) fromQuery(r *http.Request) *Failure {
	v := r.URL.Query()
	p.Q, p.In = v.Get("q"), v.Get("in")
	p.Fields = splitList(v.Get("fields"))
	number := func(name string) (*int, *Failure) {
		raw := v.Get(name)
		if raw == "" {
			return nil, nil
		}
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 {
			return nil, fail(http.StatusBadRequest, soql.CodeMalformedSearch, "%s must be a whole number: %s", name, raw)
		}
		return &n, nil
	}
	var f *Failure
	if p.OverallLimit, f = number("overallLimit"); f != nil {
		return f
	}
	if p.DefaultLimit, f = number("defaultLimit"); f != nil {
		return f
	}
	for _, name := range v["sobject"] {
		spec := searchSpec{Name: name, Fields: splitList(v.Get(name + ".fields")), Where: v.Get(name + ".where"), OrderBy: v.Get(name + ".orderBy")}
		if spec.Limit, f = number(name + ".limit"); f != nil {
			return f
		}
		p.SObjects = append(p.SObjects, spec)
	}
	return nil
}

// sosl writes the SOSL statement a parameterized search stands for.
func (p *searchParams) sosl() (string, *Failure) {
	if strings.TrimSpace(p.Q) == "" {
		return "", fail(http.StatusBadRequest, "MISSING_ARGUMENT", "q was not specified")
	}
	group := strings.ToUpper(p.In)
	switch group {
	case "":
		group = "ALL"
	case "ALL", "NAME", "EMAIL", "PHONE", "SIDEBAR":
	default:
		return "", fail(http.StatusBadRequest, "INVALID_SEARCH_SCOPE", "The search scope %s is invalid: use ALL, NAME, EMAIL, PHONE or SIDEBAR", p.In)
	}
	var b strings.Builder
	b.WriteString("FIND {")
	for _, r := range p.Q {
		if r == '{' || r == '}' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteString("} IN " + group + " FIELDS")
	for i, spec := range p.SObjects {
		if i == 0 {
			b.WriteString(" RETURNING ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(spec.Name)
		fields := spec.Fields
		if len(fields) == 0 {
			fields = p.Fields
		}
		limit := spec.Limit
		if limit == nil {
			limit = p.DefaultLimit
		}
		if len(fields) == 0 && spec.Where == "" && limit == nil && spec.OrderBy == "" {
			continue
		}
		if len(fields) == 0 {
			fields = []string{"Id"}
		}
		b.WriteString("(" + strings.Join(fields, ", "))
		if spec.Where != "" {
			b.WriteString(" WHERE " + spec.Where)
		}
		if spec.OrderBy != "" {
			b.WriteString(" ORDER BY " + spec.OrderBy)
		}
		if limit != nil {
			b.WriteString(" LIMIT " + strconv.Itoa(*limit))
		}
		b.WriteString(")")
	}
	if p.OverallLimit != nil {
		b.WriteString(" LIMIT " + strconv.Itoa(*p.OverallLimit))
	}
	return b.String(), nil
}
