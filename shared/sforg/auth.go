package sforg

// authRoutes: placeholder, replaced by the file's owner.
func (s *Server) authRoutes() {}
