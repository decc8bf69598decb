// Command floor is the benchmark's floor: the least a Lambda function can do
// to serve the connector's GET, written by hand on the standard library. The
// bench driver runs it under the Runtime Interface Emulator next to
// functions/get, against the same org and the same Secrets Manager, and every
// figure of the connector is compared with it.
//
// It does the same work as the connector's GET on the happy path, and nothing
// else:
//
//   - the Lambda runtime API by hand (next, response, error): no aws-lambda-go;
//   - on the first invoke, the secret named by SALESFORCE_SECRET_ID read from
//     Secrets Manager (AWS_ENDPOINT_URL_SECRETS_MANAGER, else the regional
//     endpoint) with one hand-signed SigV4 request: no AWS SDK;
//   - one OAuth username-password login per execution environment, the
//     session kept for every later invoke;
//   - per invoke: decode {"SObjectName","SObjectId"}, one GET of the record
//     over a kept-alive connection, the output {"salesforceResult",
//     "salesforceStatus"} and one JSON log line, as the connector writes them.
//
// What it leaves out is what the connector adds for robustness: retries, the
// circuit breaker, deadlines, input validation, EventBridge events, re-login
// on an expired session, the output budget and the API-usage metrics. Those
// cost the connector its size and part of its time; the benchmark shows how
// much.
package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	api := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime"
	runtime := &http.Client{} // no timeout: next blocks until an event comes
	sf := &http.Client{Timeout: 10 * time.Second}
	var s session
	for {
		resp, err := runtime.Get(api + "/invocation/next")
		if err != nil {
			fmt.Fprintln(os.Stderr, "runtime API:", err)
			os.Exit(1)
		}
		event, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
		start := time.Now()
		out, status, err := s.get(sf, event)
		path, body := "/response", out
		if err != nil {
			path = "/error"
			body, _ = json.Marshal(map[string]string{"errorType": "UNKNOWN_ERROR", "errorMessage": err.Error()})
		}
		fmt.Printf("{\"level\":\"INFO\",\"msg\":\"invoke\",\"action\":\"GET\",\"durationMs\":%.3f,\"requestId\":%q,\"status\":%q}\n",
			float64(time.Since(start).Microseconds())/1000, id, status)
		post, err := runtime.Post(api+"/invocation/"+id+path, "application/json", bytes.NewReader(body))
		if err != nil {
			fmt.Fprintln(os.Stderr, "runtime API:", err)
			os.Exit(1)
		}
		io.Copy(io.Discard, post.Body)
		post.Body.Close()
	}
}

// session is what the execution environment keeps: the secret and the login.
type session struct {
	secret             map[string]string
	token, instanceURL string
}

// get serves one GET event.
func (s *session) get(c *http.Client, event []byte) ([]byte, string, error) {
	var in struct {
		SObjectName string `json:"SObjectName"`
		SObjectID   string `json:"SObjectId"`
	}
	if err := json.Unmarshal(event, &in); err != nil || in.SObjectName == "" || in.SObjectID == "" {
		return nil, "", errors.New("want SObjectName and SObjectId")
	}
	if s.secret == nil {
		secret, err := readSecret(c, os.Getenv("SALESFORCE_SECRET_ID"))
		if err != nil {
			return nil, "", err
		}
		s.secret = secret
	}
	if s.token == "" {
		if err := s.login(c); err != nil {
			return nil, "", err
		}
	}
	req, _ := http.NewRequest(http.MethodGet, s.instanceURL+"/services/data/v"+strings.TrimPrefix(s.secret["SALESFORCE_VERSION"], "v")+
		"/sobjects/"+url.PathEscape(in.SObjectName)+"/"+url.PathEscape(in.SObjectID), nil)
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", err
	}
	status := strconv.Itoa(resp.StatusCode)
	out, err := json.Marshal(struct {
		Result string `json:"salesforceResult"`
		Status string `json:"salesforceStatus"`
	}{string(body), status})
	return out, status, err
}

// login is the OAuth 2.0 username-password flow.
func (s *session) login(c *http.Client) error {
	form := url.Values{
		"grant_type":    {"password"},
		"client_id":     {s.secret["SALESFORCE_CLIENT_ID"]},
		"client_secret": {s.secret["SALESFORCE_CLIENT_SECRET"]},
		"username":      {s.secret["SALESFORCE_USERNAME"]},
		"password":      {s.secret["SALESFORCE_PASSWORD"] + s.secret["SALESFORCE_SECURITY_TOKEN"]},
	}
	resp, err := c.PostForm(s.secret["SALESFORCE_URL_LOGIN"], form)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		InstanceURL string `json:"instance_url"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		return fmt.Errorf("login: status %d", resp.StatusCode)
	}
	s.token, s.instanceURL = tok.AccessToken, tok.InstanceURL
	return nil
}

// readSecret is Secrets Manager's GetSecretValue: one POST signed with
// Signature Version 4 from the function's environment credentials.
func readSecret(c *http.Client, id string) (map[string]string, error) {
	region := os.Getenv("AWS_REGION")
	endpoint := os.Getenv("AWS_ENDPOINT_URL_SECRETS_MANAGER")
	if endpoint == "" {
		endpoint = "https://secretsmanager." + region + ".amazonaws.com"
	}
	body, _ := json.Marshal(map[string]string{"SecretId": id})
	req, err := http.NewRequest(http.MethodPost, strings.TrimRight(endpoint, "/")+"/", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "secretsmanager.GetSecretValue")
	sign(req, body, region, "secretsmanager", time.Now().UTC())
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out struct {
		SecretString string `json:"SecretString"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("secret %q: status %d", id, resp.StatusCode)
	}
	var secret map[string]string
	if err := json.Unmarshal([]byte(out.SecretString), &secret); err != nil {
		return nil, fmt.Errorf("secret %q is not a JSON object of strings", id)
	}
	return secret, nil
}

// sign adds the SigV4 headers for a request whose signed headers are
// content-type, host, x-amz-date, x-amz-target (and x-amz-security-token).
func sign(req *http.Request, body []byte, region, service string, now time.Time) {
	date, stamp := now.Format("20060102"), now.Format("20060102T150405Z")
	req.Header.Set("X-Amz-Date", stamp)
	if t := os.Getenv("AWS_SESSION_TOKEN"); t != "" {
		req.Header.Set("X-Amz-Security-Token", t)
	}
	names := []string{"content-type", "host", "x-amz-date"}
	if req.Header.Get("X-Amz-Security-Token") != "" {
		names = append(names, "x-amz-security-token")
	}
	names = append(names, "x-amz-target")
	var canonical strings.Builder
	for _, n := range names {
		v := req.Header.Get(n)
		if n == "host" {
			v = req.URL.Host
		}
		canonical.WriteString(n + ":" + strings.TrimSpace(v) + "\n")
	}
	signed := strings.Join(names, ";")
	payload := sha256.Sum256(body)
	request := "POST\n/\n\n" + canonical.String() + "\n" + signed + "\n" + hex.EncodeToString(payload[:])
	scope := date + "/" + region + "/" + service + "/aws4_request"
	hashed := sha256.Sum256([]byte(request))
	toSign := "AWS4-HMAC-SHA256\n" + stamp + "\n" + scope + "\n" + hex.EncodeToString(hashed[:])
	key := []byte("AWS4" + os.Getenv("AWS_SECRET_ACCESS_KEY"))
	for _, part := range []string{date, region, service, "aws4_request"} {
		key = hmacSHA256(key, part)
	}
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+os.Getenv("AWS_ACCESS_KEY_ID")+"/"+scope+
		", SignedHeaders="+signed+", Signature="+hex.EncodeToString(hmacSHA256(key, toSign)))
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
