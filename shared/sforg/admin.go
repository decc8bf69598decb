package sforg

// adminRoutes: placeholder, replaced by the file's owner.
func (s *Server) adminRoutes() {}
