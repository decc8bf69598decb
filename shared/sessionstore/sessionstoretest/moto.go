// Package sessionstoretest runs the shared session cache against a real local
// DynamoDB (moto_server) in tests: StartMoto, then NewTable for each test.
package sessionstoretest

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

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
	target, err := url.Parse(startMotoServer(t))
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

// startMotoServer runs moto_server and returns its own endpoint.
func startMotoServer(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("moto_server not on PATH, and CI is set: install moto (pip install 'moto[server]')")
		}
		t.Skip("moto_server not on PATH: skipping the DynamoDB test (install moto to run it)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))

	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its own group, so the cleanup reaches any child
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting moto_server: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-exited:
			t.Fatalf("moto_server exited before answering: %v", err)
		default:
		}
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			return "http://" + addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto_server did not answer on %s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Client returns a DynamoDB client for endpoint with static test credentials.
func Client(endpoint string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		Credentials:  awscreds.NewStaticCredentialsProvider("test", "test", ""),
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
