package sforg

// metadataRoutes: placeholder, replaced by the file's owner.
func (s *Server) metadataRoutes() {}
