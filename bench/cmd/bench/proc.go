package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// findProcess returns the pid of the process running the executable at path:
// the bootstrap the emulator started (its own command line also names the
// path, but its executable is the emulator).
func findProcess(path string) (int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err == nil && exe == path {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no process runs %s", path)
}

// memory is a process's resident memory as /proc/<pid>/status reports it.
type memory struct {
	RSS  int64 // VmRSS: resident now, bytes
	Peak int64 // VmHWM: the most it was ever resident, bytes
}

func readMemory(pid int) (memory, error) {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return memory{}, err
	}
	defer f.Close()
	var m memory
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(v)
		if len(fields) != 2 || fields[1] != "kB" {
			continue
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "VmRSS":
			m.RSS = n << 10
		case "VmHWM":
			m.Peak = n << 10
		}
	}
	if m.RSS == 0 || m.Peak == 0 {
		return m, fmt.Errorf("pid %d: no VmRSS/VmHWM in its status", pid)
	}
	return m, sc.Err()
}

// bootstrapMemory reads the memory of the process running bootstrap.
func bootstrapMemory(bootstrap string) (memory, error) {
	pid, err := findProcess(bootstrap)
	if err != nil {
		return memory{}, err
	}
	return readMemory(pid)
}
