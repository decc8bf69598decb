package sforg

// SetIdempotencyHook makes every request that reserves an Idempotency-Key call
// f before its write runs, so that a test can hold a write in flight.
func SetIdempotencyHook(s *Server, f func()) {
	s.idem.mu.Lock()
	defer s.idem.mu.Unlock()
	s.idem.reserved = f
}
