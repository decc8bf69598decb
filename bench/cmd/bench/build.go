package main

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// buildFlags are the Makefile's GO_BUILD_FLAGS: what a deployed bootstrap is
// built with. The benchmark measures the same binaries, only for this host.
var buildFlags = []string{"-trimpath", "-tags", "lambda.norpc", "-ldflags=-s -w"}

// build compiles the packages (paths relative to the module root, e.g.
// ./functions/get) for goos/goarch in one go build and places each at
// dir/<base name>/bootstrap, a Lambda package's layout. It returns the paths
// by base name.
func build(ctx context.Context, root, dir, goos, goarch string, pkgs []string) (map[string]string, error) {
	out := filepath.Join(dir, ".out-"+goarch) + string(filepath.Separator)
	args := append([]string{"build"}, buildFlags...)
	args = append(args, "-o", out)
	args = append(args, pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build for %s/%s: %w\n%s", goos, goarch, err, strings.TrimSpace(string(msg)))
	}
	paths := make(map[string]string, len(pkgs))
	for _, p := range pkgs {
		name := filepath.Base(p)
		target := filepath.Join(dir, goarch, name, "bootstrap")
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return nil, err
		}
		if err := os.Rename(filepath.Join(out, name), target); err != nil {
			return nil, err
		}
		paths[name] = target
	}
	return paths, os.Remove(out)
}

// hostBuild builds for the machine the benchmark runs on.
func hostBuild(ctx context.Context, root, dir string, pkgs []string) (map[string]string, error) {
	return build(ctx, root, dir, runtime.GOOS, runtime.GOARCH, pkgs)
}

// size is a deployment package's size: the bootstrap and the zip Lambda takes.
type size struct {
	Name   string
	Binary int64
	Zipped int64
}

// sizeOf stats a bootstrap and zips it as a deployment package.
func sizeOf(name, path string) (size, error) {
	st, err := os.Stat(path)
	if err != nil {
		return size{}, err
	}
	z, err := zipPackage(path)
	if err != nil {
		return size{}, err
	}
	return size{Name: name, Binary: st.Size(), Zipped: int64(len(z))}, nil
}

// zipPackage is the deployment package of a bootstrap: a zip (deflate) of one
// executable file named bootstrap.
func zipPackage(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(w, f); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
