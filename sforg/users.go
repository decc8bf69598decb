package sforg

// Login users besides the integration user (Options.Users). They exist so that
// tests can act as a second user: what is scoped per user (sessions, record
// ownership and audit fields of UI API writes, Idempotency-Key replays) can
// then be told apart. Each is an active User record, seeded with the schema
// (and again by Reset), that logs in with the OAuth username-password flow
// exactly as the integration user does: the password followed by the org's
// security token, or the bare password under Options.NoSecurityToken. The
// other flows (client credentials, JWT bearer, SOAP login()) still log in as
// the integration user only.

import (
	"fmt"
	"maps"
	"strings"
)

// LoginUser is a user that can log in with the password flow.
type LoginUser struct {
	Username string // e.g. "second@sforg.local"; case-insensitive, as Salesforce usernames are
	Password string // without the security token
}

// seedLoginUsers inserts a User record for every Options.Users entry. A user
// without a username or password, or whose username is taken, is a
// configuration error that Start reports.
func (s *Server) seedLoginUsers() {
	admin := s.store.UserID()
	// New users take the integration user's locale settings.
	_, locale, err := s.store.Get("User", admin, []string{"TimeZoneSidKey", "LocaleSidKey", "LanguageLocaleKey", "EmailEncodingKey"})
	if err != nil {
		panic(err) // seedSchema made the integration user
	}
	taken := map[string]bool{strings.ToLower(s.opts.Username): true}
	for i, u := range s.opts.Users {
		key := strings.ToLower(u.Username)
		if u.Username == "" || u.Password == "" || taken[key] {
			if s.initErr == nil {
				s.initErr = fmt.Errorf("sforg: Options.Users[%d]: want a unique username and a password", i)
			}
			continue
		}
		taken[key] = true
		local, _, _ := strings.Cut(u.Username, "@")
		email := u.Username
		if !strings.Contains(email, "@") {
			email = local + "@example.com"
		}
		fields := map[string]any{"Username": u.Username, "LastName": local, "Email": email,
			"Alias": truncateASCII(local, 8), "CommunityNickname": local, "IsActive": true}
		maps.Copy(fields, locale)
		id, err := s.store.InsertSystem("User", fields)
		if err != nil {
			panic(err) // a programming error: the User fields are fixed
		}
		s.store.UpdateSystem(id, map[string]any{"CreatedById": admin, "LastModifiedById": admin}) //nolint:errcheck // the row exists
	}
}

// passwordLogin checks password-flow credentials against the integration user
// and then Options.Users, and returns the id of the user they belong to.
func (s *Server) passwordLogin(username, password string) (string, bool) {
	if s.checkPassword(username, password) {
		return s.store.UserID(), true
	}
	for _, u := range s.opts.Users {
		if !strings.EqualFold(username, u.Username) {
			continue
		}
		if !equalSecret(password, u.Password+s.opts.SecurityToken) && !(s.opts.SecurityToken == "" && equalSecret(password, u.Password)) {
			return "", false
		}
		ids := s.store.FindBy("User", "Username", u.Username)
		if len(ids) != 1 {
			return "", false
		}
		_, f, err := s.store.Get("User", ids[0], []string{"IsActive"})
		return ids[0], err == nil && f["IsActive"] == true
	}
	return "", false
}

// truncateASCII cuts s to at most n bytes (usernames are ASCII).
func truncateASCII(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
