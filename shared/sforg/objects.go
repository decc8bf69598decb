package sforg

// seedSchema defines the standard objects: placeholder, replaced by the file's owner.
func (s *Server) seedSchema() {}
