package main

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"github.com/sfconnect/connector/local/rie"
)

// stripFlags, after rie.BuildFlags, make the Makefile's GO_BUILD_FLAGS: what
// a deployed bootstrap is built with. The benchmark measures the same
// binaries, only for this host.
var stripFlags = []string{"-ldflags=-s -w"}

// build compiles the packages (paths relative to the module root, e.g.
// ./functions/get) for goos/goarch in one go build and places each at
// dir/<goarch>/<base name>/bootstrap, a Lambda package's layout. It returns
// the paths by base name.
func build(ctx context.Context, dir, goos, goarch string, pkgs []string) (map[string]string, error) {
	return rie.BuildAll(ctx, filepath.Join(dir, goarch), goos, goarch, pkgs, stripFlags...)
}

// hostBuild builds for the machine the benchmark runs on.
func hostBuild(ctx context.Context, dir string, pkgs []string) (map[string]string, error) {
	return build(ctx, dir, runtime.GOOS, runtime.GOARCH, pkgs)
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
