package connector

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/sfconnect/connector/sforg"
	"github.com/sfconnect/connector/shared/credentials"
	"github.com/sfconnect/connector/shared/salesforce"
)

// overheadBench is a warm GET two ways against one in-process org: through
// the connector as aws-lambda-go invokes it (decode, validate, session, retry
// loop, breaker, output, log line, metrics line), and as a bare net/http GET
// with a session obtained once. Both keep their connections alive, so the
// difference is what the handler adds to the HTTP round trip.
type overheadBench struct {
	org     *sforg.Server
	handler lambda.Handler
	ctx     context.Context
	event   []byte

	raw    *http.Client
	rawURL string
	bearer string
}

func newOverheadBench(b *testing.B) *overheadBench {
	b.Helper()
	org, err := sforg.Start(sforg.Options{DailyLimit: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { org.Close() })
	settings := org.Settings()
	id, err := org.Store().Insert("Account", map[string]any{"Name": "Benchmark Account", "Industry": "Energy"})
	if err != nil {
		b.Fatal(err)
	}

	// The connector as FromEnv builds it, with its log and metrics lines
	// written (to nowhere) rather than switched off.
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	c := New(salesforce.New(salesforce.Options{
		Logger:      log,
		Credentials: credentials.NewCache(credentials.Static(settings), time.Hour),
	}), log)
	c.metrics = io.Discard
	o := &overheadBench{
		org:     org,
		handler: lambda.NewHandler(Handler(c.Get)),
		ctx:     lambdacontext.NewContext(b.Context(), &lambdacontext.LambdaContext{AwsRequestID: "4b1f0b8e-bench"}),
		event:   []byte(`{"SObjectName":"Account","SObjectId":"` + id + `"}`),
		raw:     &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()},
	}
	b.Cleanup(o.raw.CloseIdleConnections)

	resp, err := o.raw.PostForm(settings["SALESFORCE_URL_LOGIN"], url.Values{
		"grant_type": {"password"}, "client_id": {settings["SALESFORCE_CLIENT_ID"]},
		"client_secret": {settings["SALESFORCE_CLIENT_SECRET"]}, "username": {settings["SALESFORCE_USERNAME"]},
		"password": {settings["SALESFORCE_PASSWORD"] + settings["SALESFORCE_SECURITY_TOKEN"]},
	})
	if err != nil {
		b.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		InstanceURL string `json:"instance_url"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil || tok.AccessToken == "" {
		b.Fatalf("login: status %d, %v", resp.StatusCode, err)
	}
	o.bearer = "Bearer " + tok.AccessToken
	o.rawURL = tok.InstanceURL + "/services/data/v" + settings["SALESFORCE_VERSION"] + "/sobjects/Account/" + id

	// Warm both: the connector logs in, both open their connection.
	o.viaHandler(b)
	o.viaRaw(b)
	return o
}

func (o *overheadBench) viaHandler(b *testing.B) {
	out, err := o.handler.Invoke(o.ctx, o.event)
	if err != nil {
		b.Fatalf("handler: %v", err)
	}
	if len(out) < 100 {
		b.Fatalf("handler output %s, want a record", out)
	}
}

func (o *overheadBench) viaRaw(b *testing.B) {
	req, err := http.NewRequestWithContext(o.ctx, http.MethodGet, o.rawURL, nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", o.bearer)
	req.Header.Set("Accept", "application/json")
	resp, err := o.raw.Do(req)
	if err != nil {
		b.Fatalf("raw GET: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || len(body) < 100 {
		b.Fatalf("raw GET: status %d, %d bytes, %v", resp.StatusCode, len(body), err)
	}
}

// BenchmarkHandlerOverhead measures the connector's in-process cost above the
// raw HTTP round trip of a GET. handler and raw run each path alone (their
// allocs/op include the in-process org's, the same in both); paired alternates
// the two in every iteration and reports the median of the per-iteration
// differences as overhead-ns/op (their mean as overhead-mean-ns/op), and the
// difference of allocations per call as overhead-allocs/op. make bench reads
// these figures.
func BenchmarkHandlerOverhead(b *testing.B) {
	o := newOverheadBench(b)
	b.Run("handler", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			o.viaHandler(b)
		}
	})
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			o.viaRaw(b)
		}
	})
	b.Run("paired", func(b *testing.B) {
		handlerAllocs := testing.AllocsPerRun(200, func() { o.viaHandler(b) })
		rawAllocs := testing.AllocsPerRun(200, func() { o.viaRaw(b) })
		var handler, raw, diff []float64
		i := 0
		for b.Loop() {
			// Alternate which goes first, so neither always follows the other.
			first, second := o.viaHandler, o.viaRaw
			if i%2 == 1 {
				first, second = o.viaRaw, o.viaHandler
			}
			t0 := time.Now()
			first(b)
			t1 := time.Now()
			second(b)
			t2 := time.Now()
			h, r := t1.Sub(t0), t2.Sub(t1)
			if i%2 == 1 {
				h, r = r, h
			}
			handler = append(handler, float64(h))
			raw = append(raw, float64(r))
			diff = append(diff, float64(h-r))
			i++
		}
		b.ReportMetric(benchMedian(handler), "handler-ns/op")
		b.ReportMetric(benchMedian(raw), "raw-ns/op")
		b.ReportMetric(benchMedian(diff), "overhead-ns/op")
		b.ReportMetric(benchMean(diff), "overhead-mean-ns/op")
		b.ReportMetric(handlerAllocs-rawAllocs, "overhead-allocs/op")
	})
}

func benchMedian(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func benchMean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	sum := 0.0
	for _, x := range v {
		sum += x
	}
	return sum / float64(len(v))
}
