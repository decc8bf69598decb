package sforg

// The control plane under the reserved path /__sforg/ (no session needed; the
// org exists only on loopback). Salesforce has no such path, so it cannot clash:
//
//	POST   /__sforg/faults            body: a Fault as JSON, e.g.
//	                                  {"route":"sobject-get","kind":"status","status":503,"html":true,"times":2}
//	                                  {"route":"*","kind":"latency","delay":"2s","times":1}
//	                                  -> 201 the fault; 400 {"error":...} when invalid
//	GET    /__sforg/faults            -> 200 the active faults (times = remaining, 0 = until cleared)
//	DELETE /__sforg/faults            -> 204, every fault removed
//	GET    /__sforg/counters          -> 200 Counters() as a JSON object (api-calls.<kind> included)
//	POST   /__sforg/reset             -> 204: data back to the seed, counters, faults and sessions cleared
//	POST   /__sforg/sessions/expire   -> 204: every session ends (next call: 401 INVALID_SESSION_ID)
//	POST   /__sforg/seed              body: {"Account":[{"Name":"Acme"}],...}
//	                                  -> 201 {"Account":["001..."]} the new ids; 400 the Salesforce error array
//	PUT    /__sforg/limit             body: {"dailyLimit":N} -> 204

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
)

func (s *Server) adminRoutes() {
	s.mux.HandleFunc("POST /__sforg/faults", s.adminInject)
	s.mux.HandleFunc("GET /__sforg/faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Faults())
	})
	s.mux.HandleFunc("DELETE /__sforg/faults", func(w http.ResponseWriter, r *http.Request) {
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	})
	s.mux.HandleFunc("GET /__sforg/counters", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Counters())
	})
	s.mux.HandleFunc("POST /__sforg/reset", func(w http.ResponseWriter, r *http.Request) {
		if err := s.Reset(); err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	s.mux.HandleFunc("POST /__sforg/sessions/expire", func(w http.ResponseWriter, r *http.Request) {
		s.ExpireSessions()
		w.WriteHeader(http.StatusNoContent)
	})
	s.mux.HandleFunc("POST /__sforg/seed", s.adminSeed)
	s.mux.HandleFunc("PUT /__sforg/limit", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			DailyLimit *int `json:"dailyLimit"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in); err != nil || in.DailyLimit == nil || *in.DailyLimit < 0 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": `want {"dailyLimit": N}`})
			return
		}
		s.SetDailyLimit(*in.DailyLimit)
		w.WriteHeader(http.StatusNoContent)
	})
}

func (s *Server) adminInject(w http.ResponseWriter, r *http.Request) {
	var f Fault
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&f); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	if err := s.Inject(f); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusCreated, f)
}

func (s *Server) adminSeed(w http.ResponseWriter, r *http.Request) {
	ids, err := s.LoadSeed(io.LimitReader(r.Body, 32<<20))
	if err != nil {
		var f *Failure
		if errors.As(err, &f) {
			writeFailure(w, f)
			return
		}
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusCreated, ids)
}

// countRequest counts one request to a route.
func (s *Server) countRequest(route string) {
	s.ctl.Lock()
	s.requests[route]++
	s.ctl.Unlock()
}

// countLogin counts one issued session by grant ("password",
// "client_credentials", "jwt-bearer" or "soap").
func (s *Server) countLogin(grant string) {
	s.ctl.Lock()
	s.logins[grant]++
	s.ctl.Unlock()
}

// Requests returns how many requests reached a route (faulted ones included);
// route "*" sums every route.
func (s *Server) Requests(route string) int {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	if route == "*" {
		n := 0
		for k, v := range s.requests {
			if k != RouteTLSHandshake { // connections, not requests (tls.go)
				n += v
			}
		}
		return n
	}
	return s.requests[route]
}

// Logins returns how many sessions logins issued, over every OAuth grant type
// and SOAP login. Failed logins are not counted (Requests("token") and
// Requests("soap-login") count attempts).
func (s *Server) Logins() int {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	n := 0
	for _, v := range s.logins {
		n += v
	}
	return n
}

// Counters returns every counter: "requests.<route>" per route, "logins.<grant>"
// per grant type ("password", "client_credentials", "jwt-bearer", "soap"),
// "logins" (all), "api-usage" and "api-limit", and "api-calls.<kind>": the
// calls counted in api-usage by kind ("rest", "composite", "collections",
// "metadata"; see usage.go).
func (s *Server) Counters() map[string]int {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	out := map[string]int{"api-usage": s.apiUsed, "api-limit": s.dailyLimit, "logins": 0}
	s.addCallCounters(out)
	for k, v := range s.requests {
		out["requests."+k] = v
	}
	for k, v := range s.logins {
		out["logins."+k] = v
		out["logins"] += v
	}
	return out
}

// Reset puts the org back as it started: the seed data (schema, integration
// user, Options.SeedFile and every LoadSeed document, replayed in order), no
// faults, no sessions, zero counters and API usage, the configured daily limit.
// Record ids start over, so the seed gets the same ids again.
func (s *Server) Reset() error {
	s.bulk.reset() // bulk.go: jobs and Bulk API allocations
	s.ExpireSessions()
	s.ctl.Lock()
	s.faults = nil
	clear(s.requests)
	clear(s.logins)
	clear(s.apiCalls)
	s.apiUsed = 0
	s.dailyLimit = s.opts.DailyLimit
	seeds := append([][]byte(nil), s.seeds...)
	s.ctl.Unlock()

	s.idem.reset() // idempotency.go: stored responses name records that are gone
	s.store.reset()
	s.seedSchema()
	s.seedApprovals() // approvals.go: the defined processes get their ProcessDefinition rows back
	for _, doc := range seeds {
		if _, err := s.insertSeed(doc); err != nil {
			return err
		}
	}
	return nil
}

// LoadSeed inserts records from a JSON document shaped
// {"Account":[{"Name":"Acme"}],"Contact":[{"LastName":"Doe"}]} through the
// normal REST validation. Objects are inserted in document order, so a later
// object may not refer to ids made here (they are not known in advance); use
// the returned ids and Store().Insert for linked data. Reset replays the
// document. It returns the new ids per object.
func (s *Server) LoadSeed(r io.Reader) (map[string][]string, error) {
	doc, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	ids, err := s.insertSeed(doc)
	if err != nil {
		return ids, err
	}
	s.ctl.Lock()
	s.seeds = append(s.seeds, doc)
	s.ctl.Unlock()
	return ids, nil
}

// LoadSeedFile is LoadSeed on a file.
func (s *Server) LoadSeedFile(path string) (map[string][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return s.LoadSeed(f)
}

func (s *Server) insertSeed(doc []byte) (map[string][]string, error) {
	objects, order, err := decodeSeed(doc)
	if err != nil {
		return nil, err
	}
	ids := map[string][]string{}
	for _, name := range order {
		for i, rec := range objects[name] {
			id, err := s.store.Insert(name, rec)
			if err != nil {
				return ids, fmt.Errorf("seed %s[%d]: %w", name, i, err)
			}
			ids[name] = append(ids[name], id)
		}
	}
	return ids, nil
}

// decodeSeed reads the seed document keeping the order of its objects.
func decodeSeed(doc []byte) (map[string][]map[string]any, []string, error) {
	var objects map[string][]map[string]any
	if err := json.Unmarshal(doc, &objects); err != nil {
		return nil, nil, fmt.Errorf("seed: want {\"Object\":[{fields}...]}: %w", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(doc)))
	var order []string
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case json.Delim:
			if t == '{' || t == '[' {
				depth++
			} else {
				depth--
			}
		case string:
			if depth == 1 {
				if _, ok := objects[t]; ok {
					order = append(order, t)
				}
			}
		}
	}
	if len(order) != len(objects) {
		order = order[:0]
		for k := range objects {
			order = append(order, k)
		}
		sort.Strings(order)
	}
	return objects, order, nil
}
