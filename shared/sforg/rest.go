package sforg

// restRoutes: placeholder, replaced by the file's owner.
func (s *Server) restRoutes() {}
