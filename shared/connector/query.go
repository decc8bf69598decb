package connector

import (
	"context"

	"github.com/sfconnect/connector/shared/salesforce"
)

// Query is the QUERY action: salesforceQuery in, every page of the answer merged
// into one {"totalSize","done":true,"records"} out.
func (c *Connector) Query(ctx context.Context, event []byte) ([]byte, error) {
	return c.run(ctx, "QUERY", false, query, event)
}

func query(ctx context.Context, sf *salesforce.Client, in *input) (*salesforce.Response, error) {
	soql, err := in.query()
	if err != nil {
		return nil, err
	}
	return sf.Query(ctx, soql)
}
