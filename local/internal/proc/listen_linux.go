package proc

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// listens reports whether process pid has a TCP socket listening on port:
// one of its file descriptors is a socket whose inode /proc/net/tcp (or tcp6)
// lists in state LISTEN on that port. Another process answering on the port
// is not enough.
func listens(pid, port int) bool {
	inodes := map[string]bool{}
	fds, _ := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "fd"))
	for _, fd := range fds {
		link, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "fd", fd.Name()))
		if inode, ok := strings.CutPrefix(link, "socket:["); err == nil && ok {
			inodes[strings.TrimSuffix(inode, "]")] = true
		}
	}
	if len(inodes) == 0 {
		return false
	}
	for _, table := range []string{"tcp", "tcp6"} {
		f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "net", table))
		if err != nil {
			continue
		}
		found := listed(bufio.NewScanner(f), port, inodes)
		f.Close()
		if found {
			return true
		}
	}
	return false
}

// listed scans a /proc/net/tcp table for a LISTEN row (state 0A) on port whose
// inode is one of inodes. Columns: sl local_address rem_address st tx:rx tr
// retrnsmt uid timeout inode ...; addresses are hex "ADDR:PORT".
func listed(rows *bufio.Scanner, port int, inodes map[string]bool) bool {
	for rows.Scan() {
		f := strings.Fields(rows.Text())
		if len(f) < 10 || f[3] != "0A" {
			continue
		}
		_, hexPort, ok := strings.Cut(f[1], ":")
		p, err := strconv.ParseUint(hexPort, 16, 32)
		if ok && err == nil && int(p) == port && inodes[f[9]] {
			return true
		}
	}
	return false
}
