package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// childGetEnv makes the test binary a child process that GETs the URL in it
// with Go's default client, trusting what the environment (SSL_CERT_FILE)
// says, prints the status and exits 0, or prints the error and exits 1.
const childGetEnv = "SFORG_TEST_CHILD_GET"

func TestMain(m *testing.M) {
	if u := os.Getenv(childGetEnv); u != "" {
		res, err := http.Get(u)
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		res.Body.Close()
		fmt.Println(res.Status)
		os.Exit(0)
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	binDir    string // the built command's folder, removed by TestMain
	binPath   string
	buildErr  error
)

// commandBinary builds the command once per test process.
func commandBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "sforg-cmd-"); buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "sforg")
		if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// runningCommand is the command started by startCommand.
type runningCommand struct {
	cmd      *exec.Cmd
	keys     []string          // the KEY=VALUE lines' keys, in printed order
	settings map[string]string // and their values
	lines    *bufio.Scanner
	stderr   *strings.Builder // read it only after stop
}

// startCommand runs the command on a free loopback port with more args and
// reads its settings lines: the eight, and SFORG_CA_FILE with -tls.
func startCommand(t *testing.T, args ...string) *runningCommand {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), commandBinary(t), append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	rc := &runningCommand{cmd: cmd, settings: map[string]string{}, lines: bufio.NewScanner(stdout), stderr: &strings.Builder{}}
	cmd.Stderr = rc.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill() //nolint:errcheck // best effort after a failure
			cmd.Wait()         //nolint:errcheck // best effort after a failure
		}
	})
	want := 8
	if slices.Contains(args, "-tls") {
		want = 9
	}
	for len(rc.keys) < want && rc.lines.Scan() {
		k, v, ok := strings.Cut(rc.lines.Text(), "=")
		if !ok {
			t.Fatalf("line %q is not KEY=VALUE", rc.lines.Text())
		}
		rc.keys = append(rc.keys, k)
		rc.settings[k] = v
	}
	if len(rc.keys) != want {
		t.Fatalf("settings: got %v, want %d lines", rc.keys, want)
	}
	return rc
}

// stop sends SIGTERM, reads what else the command printed and waits for it to
// exit 0.
func (rc *runningCommand) stop(t *testing.T) (more []string) {
	t.Helper()
	if err := rc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for rc.lines.Scan() {
		more = append(more, rc.lines.Text())
	}
	if err := rc.cmd.Wait(); err != nil {
		t.Fatalf("exit: got %v, want 0\nstderr:\n%s", err, rc.stderr.String())
	}
	return more
}

// caClient trusts only the CA in file.
func caClient(t *testing.T, file string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", file)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// passwordLogin posts the password flow with the printed settings.
func passwordLogin(t *testing.T, client *http.Client, settings map[string]string) (*http.Response, []byte) {
	t.Helper()
	form := url.Values{
		"grant_type":    {"password"},
		"client_id":     {settings["SALESFORCE_CLIENT_ID"]},
		"client_secret": {settings["SALESFORCE_CLIENT_SECRET"]},
		"username":      {settings["SALESFORCE_USERNAME"]},
		"password":      {settings["SALESFORCE_PASSWORD"] + settings["SALESFORCE_SECURITY_TOKEN"]},
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, settings["SALESFORCE_URL_LOGIN"], strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, body
}
