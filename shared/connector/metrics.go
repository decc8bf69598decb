package connector

import (
	"encoding/json"
	"time"

	"github.com/sfconnect/connector/shared/salesforce"
)

// MetricsNamespace is the CloudWatch namespace of the connector's metrics.
const MetricsNamespace = "SalesforceConnector"

// emfLine is one CloudWatch Embedded Metric Format document: CloudWatch Logs
// turns the log line into metrics, so users can alarm on the org's API usage
// without the functions calling CloudWatch. The metrics are published twice:
// per Function (the action) and with no dimension, the org-wide series to alarm
// on (the usage is the org's, whichever function saw it last).
type emfLine struct {
	AWS             emfMeta `json:"_aws"`
	Function        string  `json:"Function"`
	APIUsed         int     `json:"ApiUsed"`
	APIMax          int     `json:"ApiMax"`
	APIUsagePercent float64 `json:"ApiUsagePercent"`
}

type emfMeta struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

var usageMetrics = []emfMetric{
	{"ApiUsed", "Count"},
	{"ApiMax", "Count"},
	{"ApiUsagePercent", "Percent"},
}

// emitUsage writes the EMF line of an invocation that saw the org's API usage.
func (c *Connector) emitUsage(action string, u salesforce.Usage, now time.Time) {
	if c.metrics == nil {
		return
	}
	line := emfLine{
		AWS: emfMeta{
			Timestamp: now.UnixMilli(),
			CloudWatchMetrics: []emfDirective{{
				Namespace:  MetricsNamespace,
				Dimensions: [][]string{{"Function"}, {}},
				Metrics:    usageMetrics,
			}},
		},
		Function:        action,
		APIUsed:         u.Used,
		APIMax:          u.Max,
		APIUsagePercent: u.Percent,
	}
	b, err := json.Marshal(line)
	if err != nil {
		return
	}
	c.metricsMu.Lock()
	defer c.metricsMu.Unlock()
	_, _ = c.metrics.Write(append(b, '\n'))
}
