package sforg

// OAuth token revocation: POST /services/oauth2/revoke with the form field
// token=, or GET with ?token=. Revoking an access token (or a SOAP session id,
// the same session here) ends the session: the next API call with it gets
// 401 INVALID_SESSION_ID. Success is 200 with an empty body. Every failure is
// 400 with unsupported_token_type or invalid_token, as Salesforce documents
// for this endpoint; the body is form-encoded, not JSON, as a captured answer
// shows (omniphx/forrest#213: error=unsupported_token_type&error_description=
// this%20token%20type%20is%20not%20supported), which is also why jsforce
// parses it as a query string.
//
// [UNCONFIRMED] which of the two codes a token gets: here a string that has
// the form of a session id (the org id, "!", the rest) but is no live session
// is invalid_token ("invalid token"), anything else unsupported_token_type.
// [UNCONFIRMED] methods other than GET and POST: answered 400
// unsupported_token_type like any other failure. No refresh tokens are
// issued by this org, so there is none to revoke; JSONP (callback=) is not
// modelled.

import (
	"net/http"
	"net/url"
	"strings"
)

// revoke answers the revocation endpoint.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		writeRevokeError(w, "unsupported_token_type", "this token type is not supported")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	token := strings.TrimSpace(r.FormValue("token"))
	if _, ok := s.sessionFor(token); ok {
		s.RevokeSession(token)
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		return
	}
	if org, rest, ok := strings.Cut(token, "!"); ok && rest != "" && (org == OrgID[:15] || org == OrgID) {
		writeRevokeError(w, "invalid_token", "invalid token")
		return
	}
	writeRevokeError(w, "unsupported_token_type", "this token type is not supported")
}

// writeRevokeError sends the revocation endpoint's form-encoded error.
func writeRevokeError(w http.ResponseWriter, code, description string) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8")
	w.WriteHeader(http.StatusBadRequest)
	w.Write([]byte("error=" + url.PathEscape(code) + "&error_description=" + url.PathEscape(description))) //nolint:errcheck // the client went away
}
