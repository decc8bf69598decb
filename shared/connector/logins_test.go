package connector

import (
	"fmt"
	"sync"
	"testing"
)

// TestOneLoginPerEnvironment checks the token cache through the handlers: one
// execution environment logs in once, however many invokes it serves.
func TestOneLoginPerEnvironment(t *testing.T) {
	t.Run("100 sequential invocations", func(t *testing.T) {
		w := setup(t)
		for i := range 100 {
			r := invoke(t, w.conn.Create, fmt.Sprintf(`{"SObjectName":"Account","salesforcePayload":{"Name":"Acme %d"}}`, i))
			mustOK(t, r, "201")
		}
		if got := w.org.Logins(); got != 1 {
			t.Errorf("got %d logins, want 1", got)
		}
	})
	t.Run("50 concurrent callers", func(t *testing.T) {
		w := setup(t)
		var wg sync.WaitGroup
		errs := make(chan string, 50)
		for range 50 {
			wg.Go(func() {
				r := invoke(t, w.conn.Query, `{"salesforceQuery":"SELECT Id FROM Account"}`)
				if r.ErrorType != "" || r.SalesforceStatus != "200" {
					errs <- r.ErrorType + " " + r.SalesforceStatus
				}
			})
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Errorf("got %s, want 200", e)
		}
		if got := w.org.Logins(); got != 1 {
			t.Errorf("got %d logins, want 1", got)
		}
	})
	t.Run("expired session", func(t *testing.T) {
		w := setup(t)
		mustOK(t, invoke(t, w.conn.ApprovalList, `{}`), "200")
		w.org.ExpireSessions()
		mustOK(t, invoke(t, w.conn.ApprovalList, `{}`), "200")
		mustOK(t, invoke(t, w.conn.ApprovalList, `{}`), "200")
		if got := w.org.Logins(); got != 2 {
			t.Errorf("got %d logins, want 2 (one re-login after expiry)", got)
		}
	})
}
