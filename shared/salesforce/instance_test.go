package salesforce

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sfconnect/connector/shared/credentials"
	"github.com/sfconnect/connector/shared/faults"
)

// TestLoginAnswerNamingAnotherHost: a login answer whose instance_url is not
// on a Salesforce domain (nor loopback) is refused: the access token and the
// record data must not go there.
func TestLoginAnswerNamingAnotherHost(t *testing.T) {
	var api atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/services/oauth2/token") {
			jsonAnswer(w, http.StatusOK, []byte(`{"access_token":"00D!stolen","instance_url":"https://salesforce.com.attacker.example","token_type":"Bearer"}`))
			return
		}
		api.Add(1)
	}))
	t.Cleanup(srv.Close)
	cfg := credentials.Config{AuthFlow: credentials.FlowPassword, ClientID: "id", ClientSecret: "secret", Username: testUsername,
		Password: testPassword, LoginURL: srv.URL + "/services/oauth2/token", Version: "45.0"}
	c, _ := flowClient(cfg, func(o *Options) { o.Transport.HTTPClient = srv.Client() })
	_, err := c.CreateRecord(t.Context(), "Account", []byte(`{"Name":"Acme"}`))
	if faults.CodeOf(err) != faults.UnknownError || !strings.Contains(faults.MessageOf(err), "Salesforce domain") {
		t.Fatalf("got %v, want UNKNOWN_ERROR refusing the instance URL", err)
	}
	if api.Load() != 0 {
		t.Errorf("got %d API requests, want none", api.Load())
	}
}
