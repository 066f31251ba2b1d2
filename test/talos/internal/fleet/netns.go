package fleet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// netnsDir is where `ip netns add` puts named network namespaces.
const netnsDir = "/var/run/netns"

// commandTimeout bounds every ip/wg command.
const commandTimeout = 10 * time.Second

// checkNetns refuses a namespace that does not exist.
func checkNetns(ns string) error {
	if ns == "" || strings.ContainsAny(ns, "/ \t\n") {
		return fmt.Errorf("netns %q: not a namespace name", ns)
	}

	if _, err := os.Stat(filepath.Join(netnsDir, ns)); err != nil {
		return fmt.Errorf("netns %q: %w (create it with ip netns add)", ns, err)
	}

	return nil
}

// inNetns runs fn on an OS thread that has entered network namespace ns
// (ns "": the fleet's own). Sockets fn opens stay in ns; the thread goes back
// afterwards, or, if it cannot, ends with its goroutine (it stays locked).
func inNetns(ns string, fn func() error) error {
	if ns == "" {
		return fn()
	}

	target, err := os.Open(filepath.Join(netnsDir, ns))
	if err != nil {
		return fmt.Errorf("netns %s: %w", ns, err)
	}

	defer target.Close() //nolint:errcheck

	result := make(chan error, 1)

	go func() {
		runtime.LockOSThread()

		own, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()

			result <- err

			return
		}

		defer own.Close() //nolint:errcheck

		if err = unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()

			result <- fmt.Errorf("entering netns %s: %w", ns, err)

			return
		}

		fnErr := fn()

		if err = unix.Setns(int(own.Fd()), unix.CLONE_NEWNET); err != nil {
			result <- errors.Join(fnErr, fmt.Errorf("leaving netns %s: %w", ns, err))

			return
		}

		runtime.UnlockOSThread()

		result <- fnErr
	}()

	return <-result
}

// listenTCP listens on addr inside network namespace ns ("": the fleet's
// own). In a namespace the socket binds even while the address is missing
// (IP_FREEBIND): a node that lost its address (dhcp.go) listens again as the
// realiser puts it back.
func listenTCP(ns, addr string) (net.Listener, error) {
	if ns == "" {
		return net.Listen("tcp", addr)
	}

	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var sockErr error

		err := c.Control(func(fd uintptr) {
			sockErr = unix.SetsockoptInt(int(fd), unix.SOL_IP, unix.IP_FREEBIND, 1)
		})

		return errors.Join(err, sockErr)
	}}

	var lis net.Listener

	err := inNetns(ns, func() error {
		var err error

		lis, err = lc.Listen(context.Background(), "tcp", addr)

		return err
	})

	return lis, err
}

// run runs a command, logging it and its failure; it answers its stdout.
func run(logf func(string, ...any), name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()

	var stdout, stderr bytes.Buffer

	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr

	line := name + " " + strings.Join(args, " ")
	logf("run: %s", line)

	if err := cmd.Run(); err != nil {
		err = fmt.Errorf("%s: %w: %s", line, err, strings.TrimSpace(stderr.String()))
		logf("failed: %v", err)

		return stdout.String(), err
	}

	return stdout.String(), nil
}

// query runs a read-only command without logging success (reads happen on
// every resource and stats call); failures are logged.
func query(logf func(string, ...any), name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()

	var stdout, stderr bytes.Buffer

	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr

	if err := cmd.Run(); err != nil {
		err = fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		logf("failed: %v", err)

		return "", err
	}

	return stdout.String(), nil
}
