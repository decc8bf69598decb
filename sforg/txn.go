package sforg

// Transactions that span several handlers. An all-or-none composite request
// (composite.go) runs its subrequests through the same handlers as top-level
// requests, each of which writes the store on its own; to undo them all when
// one fails, the store keeps a journal of how to reverse every change made
// while the composite runs, and the composite runs alone: every other REST
// request shares Server.gate, the all-or-none composite takes it exclusively.
// Writes made outside REST meanwhile (the admin endpoints under /__sforg/, Go
// calls on Store) are not kept apart: a composite that rolls back undoes them too.

import "net/http"

// journalLocked starts recording how to undo changes; the caller holds the
// write lock. Every change is recorded in every journal open at the time.
func (s *Store) journalLocked() *[]func() {
	j := &[]func(){}
	s.journals = append(s.journals, j)
	return j
}

// endJournalLocked stops recording into j and returns what it recorded, in
// the order the changes were made; the caller holds the write lock.
func (s *Store) endJournalLocked(j *[]func()) []func() {
	for i, open := range s.journals {
		if open == j {
			s.journals = append(s.journals[:i:i], s.journals[i+1:]...)
			break
		}
	}
	return *j
}

// journal is journalLocked for a caller without the lock.
func (s *Store) journal() *[]func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.journalLocked()
}

// endJournal closes j; when undo is set, it also reverses every change j
// recorded, newest first (ids and auto numbers stay used, as in Salesforce).
func (s *Store) endJournal(j *[]func(), undo bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	steps := s.endJournalLocked(j)
	if !undo {
		return
	}
	for i := len(steps) - 1; i >= 0; i-- {
		steps[i]()
	}
}

// noteInsert records that a row was inserted; the caller holds the write lock.
func (s *Store) noteInsert(id string) {
	for _, j := range s.journals {
		*j = append(*j, func() { s.unlink(id) })
	}
}

// noteChange records a row's fields before they change; the caller holds the
// write lock.
func (s *Store) noteChange(r *row) {
	if len(s.journals) == 0 {
		return
	}
	restore := s.saved(r.fields["Id"].(string))
	for _, j := range s.journals {
		*j = append(*j, restore)
	}
}

// enterREST admits a REST request past the gate and returns its release: it
// waits while an all-or-none composite runs. The composite route takes the
// gate itself, and subrequests run inside their composite's hold.
func (s *Server) enterREST(r *http.Request, route string) func() {
	if route == RouteComposite || isSubrequest(r) {
		return func() {}
	}
	s.gate.RLock()
	return s.gate.RUnlock
}
