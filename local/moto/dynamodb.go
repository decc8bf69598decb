package moto

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// StartSerialTest runs moto_server for a test, as StartTest does, and returns
// the endpoint to use: a Serial proxy in front of it, so that conditional
// writes are atomic as in DynamoDB. Tests that count the winners of a
// conditional write use this endpoint.
func StartSerialTest(t testing.TB) string {
	t.Helper()
	s, err := NewSerial(StartTest(t).URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s.URL
}

// DynamoDB returns a DynamoDB client for endpoint with the static test
// credentials.
func DynamoDB(endpoint string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       Region,
		Credentials:  awscreds.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		BaseEndpoint: aws.String(endpoint),
	})
}

var tables atomic.Int64

// NewTable creates an on-demand table named prefix-N with the string partition
// key key and, when ttl is not "", time to live on the attribute ttl (the shape
// of template.yaml's tables), and returns its name.
func NewTable(t testing.TB, client *dynamodb.Client, prefix, key, ttl string) string {
	t.Helper()
	name := fmt.Sprintf("%s-%d", prefix, tables.Add(1))
	if err := CreateTable(t.Context(), client, name, key, ttl); err != nil {
		t.Fatal(err)
	}
	return name
}

// CreateTable creates the on-demand table name with the string partition key
// key and, when ttl is not "", time to live on the attribute ttl.
func CreateTable(ctx context.Context, client *dynamodb.Client, name, key, ttl string) error {
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(key), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(key), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		return fmt.Errorf("creating table %s: %w", name, err)
	}
	if ttl == "" {
		return nil
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(ttl), Enabled: aws.Bool(true)},
	})
	if err != nil {
		return fmt.Errorf("enabling TTL on %s: %w", name, err)
	}
	return nil
}
