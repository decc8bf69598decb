// Package sessionstoretest runs the shared session cache against a real local
// DynamoDB (moto_server) in tests: StartMoto, then NewTable for each test.
package sessionstoretest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sfconnect/connector/local/moto"
	"github.com/sfconnect/connector/shared/sessionstore"
)

// StartMoto runs moto_server on a free loopback port until the test ends and
// returns the endpoint to use: a loopback proxy in front of it that passes one
// request at a time. DynamoDB applies each conditional write atomically; moto
// serves requests on threads without locking the item, and was seen to let two
// of twenty simultaneous attribute_not_exists writes succeed. Serialised, it
// behaves as DynamoDB does.
//
// Without moto_server the test is skipped, unless CI is set, where it fails: CI
// must run it.
func StartMoto(t testing.TB) string {
	t.Helper()
	target, err := url.Parse(moto.StartTest(t).URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// Client returns a DynamoDB client for endpoint with static test credentials.
func Client(endpoint string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       moto.Region,
		Credentials:  awscreds.NewStaticCredentialsProvider(moto.AccessKeyID, moto.SecretAccessKey, ""),
		BaseEndpoint: aws.String(endpoint),
	})
}

var tables atomic.Int64

// NewTable creates a table shaped like template.yaml's session table (string
// partition key sessionstore.AttrKey, on demand, TTL on sessionstore.AttrExpiry)
// and returns its name.
func NewTable(t testing.TB, client *dynamodb.Client) string {
	t.Helper()
	name := fmt.Sprintf("sessions-%d", tables.Add(1))
	_, err := client.CreateTable(t.Context(), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(sessionstore.AttrKey), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(sessionstore.AttrKey), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		t.Fatalf("creating table %s: %v", name, err)
	}
	_, err = client.UpdateTimeToLive(t.Context(), &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(sessionstore.AttrExpiry), Enabled: aws.Bool(true)},
	})
	if err != nil {
		t.Fatalf("enabling TTL on %s: %v", name, err)
	}
	return name
}
