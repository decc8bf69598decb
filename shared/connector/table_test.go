package connector

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// repo is the repository root, seen from this package.
const repo = "../.."

func read(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repo, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestActionsMatchTheRepo keeps functions/, the Makefile, template.yaml and
// events/ in step with the table of actions: every action has its function
// folder whose main serves it, a build target for sam build, a template
// resource whose ARN is exported, and a sample event; and nothing is there
// that the table does not know.
func TestActionsMatchTheRepo(t *testing.T) {
	makefile, template := read(t, "Makefile"), read(t, "template.yaml")

	var want []string
	for _, a := range Actions() {
		want = append(want, a.Function)
		t.Run(a.Function, func(t *testing.T) {
			if main := read(t, "functions/"+a.Function+"/main.go"); !strings.Contains(main, `connector.Main("`+a.Function+`")`) {
				t.Errorf("functions/%s/main.go does not call connector.Main(%q)", a.Function, a.Function)
			}
			target := regexp.MustCompile(`(?m)^build-` + a.LogicalID() + `:.*sam_artifact,([a-z-]+)\)\s*$`).FindStringSubmatch(makefile)
			if target == nil || target[1] != a.Function {
				t.Errorf("the Makefile has no build-%s target building %s", a.LogicalID(), a.Function)
			}
			if !regexp.MustCompile(`(?m)^  ` + a.LogicalID() + `:\n    Type: AWS::Serverless::Function$`).MatchString(template) {
				t.Errorf("template.yaml has no AWS::Serverless::Function %s", a.LogicalID())
			}
			if !regexp.MustCompile(`(?m)^  ` + a.LogicalID() + `Arn:\n(?: {4}.*\n)*? {4}Value: !GetAtt ` + a.LogicalID() + `\.Arn$`).MatchString(template) {
				t.Errorf("template.yaml's Outputs do not export %sArn", a.LogicalID())
			}
			var event map[string]any
			if err := json.Unmarshal([]byte(read(t, "events/"+a.Function+".json")), &event); err != nil {
				t.Errorf("events/%s.json: %v, want a JSON object", a.Function, err)
			}
		})
	}

	dirs, err := filepath.Glob(filepath.Join(repo, "functions", "*", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range dirs {
		got = append(got, filepath.Base(filepath.Dir(d)))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("functions/ holds %v, the table of actions %v", got, want)
	}
	resources := regexp.MustCompile(`(?m)^  ([A-Za-z0-9]+):\n    Type: AWS::Serverless::Function$`).FindAllStringSubmatch(template, -1)
	if len(resources) != len(want) {
		t.Errorf("template.yaml declares %d functions, the table %d", len(resources), len(want))
	}
}

// TestEventBridgeSamples: the EventBridge samples carry the whole envelope a
// rule delivers.
func TestEventBridgeSamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(repo, "events", "eventbridge-*.json"))
	if err != nil || len(files) < 3 {
		t.Fatalf("got %d EventBridge samples (%v), want at least 3", len(files), err)
	}
	for _, f := range files {
		var event map[string]json.RawMessage
		b, err := os.ReadFile(f)
		if err == nil {
			err = json.Unmarshal(b, &event)
		}
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		for _, key := range []string{"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"} {
			if _, ok := event[key]; !ok {
				t.Errorf("%s: missing %s", filepath.Base(f), key)
			}
		}
	}
}

func TestLogicalID(t *testing.T) {
	for function, want := range map[string]string{"get": "GetFunction", "approval-submit": "ApprovalSubmitFunction", "custom-object-create": "CustomObjectCreateFunction"} {
		if got := (Action{Function: function}).LogicalID(); got != want {
			t.Errorf("%s: got %q, want %q", function, got, want)
		}
	}
}

// TestRulesOnTheConnectorsBus: every EventBridge rule of the template listens
// on the connector's own bus, never on the default bus, where any principal
// allowed to put events (and AWS services) could make the functions write.
func TestRulesOnTheConnectorsBus(t *testing.T) {
	template := read(t, "template.yaml")
	lines := strings.Split(template, "\n")
	rules := 0
	for i, line := range lines {
		if strings.TrimSpace(line) != "Type: EventBridgeRule" {
			continue
		}
		rules++
		indent := len(line) - len(strings.TrimLeft(line, " "))
		var block []string
		for _, next := range lines[i+1:] {
			if strings.TrimSpace(next) != "" && len(next)-len(strings.TrimLeft(next, " ")) < indent {
				break
			}
			block = append(block, next)
		}
		if !strings.Contains(strings.Join(block, "\n"), "EventBusName: !Ref ConnectorEventBus") {
			t.Errorf("the EventBridge rule at line %d of template.yaml does not name the connector's bus", i+1)
		}
	}
	if rules == 0 {
		t.Fatal("no EventBridgeRule in template.yaml")
	}
	if !strings.Contains(template, "ReservedConcurrentExecutions: !If [HasReservedConcurrency") {
		t.Errorf("the functions' reserved concurrency is not a template setting")
	}
}
