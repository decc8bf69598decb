package salesforce

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sfconnect/connector/sforg"
	"github.com/sfconnect/connector/shared/credentials"
	"github.com/sfconnect/connector/shared/faults"
)

// TestReachedIsWhatTheConnectionDid runs CREATE over TLS against an org that
// misbehaves at the TLS layer. Whether the POST may be sent again depends on
// whether the connection carried the whole request, never on the error's type:
// a TLS record error after the request was written (the org committed, then
// wrote garbage) is an outcome unknown, not a handshake that failed.
func TestReachedIsWhatTheConnectionDid(t *testing.T) {
	tests := []struct {
		name        string
		fault       sforg.Fault
		wantCode    faults.Code // "" for success
		wantText    string
		wantCreated int
		wantPosts   int // create requests the org received
	}{
		{name: "garbage after the commit: not resent",
			fault:    sforg.Fault{Route: sforg.RouteCreate, Kind: sforg.FaultGarbageAfter, Times: 1},
			wantCode: faults.UnknownError, wantText: "outcome is unknown", wantCreated: 1, wantPosts: 1},
		{name: "garbage in the handshake: nothing was written, resent",
			fault:       sforg.Fault{Route: sforg.RouteTLSHandshake, Kind: sforg.FaultHandshakeGarbage, Times: 1},
			wantCreated: 1, wantPosts: 1},
		{name: "reset in the handshake: nothing was written, resent",
			fault:       sforg.Fault{Route: sforg.RouteTLSHandshake, Kind: sforg.FaultHandshakeReset, Times: 1},
			wantCreated: 1, wantPosts: 1},
		{name: "handshake fails every time: CONNECTION_ERROR, nothing created",
			fault:    sforg.Fault{Route: sforg.RouteTLSHandshake, Kind: sforg.FaultHandshakeGarbage},
			wantCode: faults.ConnectionError, wantText: "after 3 attempts", wantCreated: 0, wantPosts: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			org := startOrg(t, func(o *sforg.Options) { o.TLS = true })
			cfg := flowConfig(t, org, credentials.FlowPassword)
			c, _ := flowClient(cfg, func(o *Options) {
				// A new connection for every request, so that a handshake
				// fault meets the create itself.
				tr := http.DefaultTransport.(*http.Transport).Clone()
				tr.TLSClientConfig = org.ClientTLSConfig()
				tr.DisableKeepAlives = true
				o.Transport.HTTPClient = &http.Client{Transport: tr}
			})
			if err := c.warmUp(t); err != nil {
				t.Fatal(err)
			}
			if err := org.Inject(tt.fault); err != nil {
				t.Fatal(err)
			}
			resp, err := c.CreateRecord(t.Context(), "Account", []byte(`{"Name":"Acme over TLS"}`))
			if got := faults.CodeOf(err); got != tt.wantCode {
				t.Fatalf("got %q (%v), want %q", got, err, tt.wantCode)
			}
			if err != nil && !strings.Contains(faults.MessageOf(err), tt.wantText) {
				t.Errorf("message %q does not say %q", faults.MessageOf(err), tt.wantText)
			}
			if err == nil && resp.Status != http.StatusCreated {
				t.Errorf("got status %d, want 201", resp.Status)
			}
			if got := org.Store().Count("Account"); got != tt.wantCreated {
				t.Errorf("got %d Accounts, want %d", got, tt.wantCreated)
			}
			if got := org.Requests(sforg.RouteCreate); got != tt.wantPosts {
				t.Errorf("got %d create requests, want %d", got, tt.wantPosts)
			}
		})
	}
}
