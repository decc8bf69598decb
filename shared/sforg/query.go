package sforg

// queryRoutes: placeholder, replaced by the file's owner.
func (s *Server) queryRoutes() {}
