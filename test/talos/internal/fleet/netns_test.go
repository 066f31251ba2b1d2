package fleet_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"hybridctl.dev/test/talos/internal/fleet"
)

// requireNetns skips unless the test can make network namespaces and run
// WireGuard in them: root, `ip netns`, wireguard-go and wg.
func requireNetns(t *testing.T) {
	t.Helper()

	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces")
	}

	for _, tool := range []string{"ip", "wg", "wireguard-go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}

	probe := fmt.Sprintf("hwprobe%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", probe).CombinedOutput(); err != nil {
		t.Skipf("ip netns unavailable: %v: %s", err, out)
	}

	exec.Command("ip", "netns", "del", probe).Run() //nolint:errcheck
}

// sh runs a command, failing the test on error; it answers its output.
func sh(t *testing.T, name string, args ...string) string {
	t.Helper()

	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}

	return string(out)
}

// makeNetns creates a namespace with lo up, removed when the test ends.
func makeNetns(t *testing.T, name string) {
	t.Helper()

	exec.Command("ip", "netns", "del", name).Run() //nolint:errcheck // a leftover of a killed run
	sh(t, "ip", "netns", "add", name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() }) //nolint:errcheck
	sh(t, "ip", "-n", name, "link", "set", "lo", "up")
}

// dialIn dials from inside a namespace (a gRPC dialer: the node listens there).
func dialIn(t *testing.T, ns string) func(ctx context.Context, addr string) (net.Conn, error) {
	t.Helper()

	return func(ctx context.Context, addr string) (net.Conn, error) {
		var conn net.Conn

		err := fleet.InNetns(ns, func() error {
			var err error

			conn, err = (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, "tcp", addr)

			return err
		})

		return conn, err
	}
}

// wgIface finds the one WireGuard (wireguard-go TUN) interface of a namespace.
func wgIface(t *testing.T, ns string) string {
	t.Helper()

	var links []struct {
		Name     string `json:"ifname"`
		Linkinfo struct {
			Kind string `json:"info_kind"`
		} `json:"linkinfo"`
	}

	if err := json.Unmarshal([]byte(sh(t, "ip", "-n", ns, "-j", "-d", "link", "show")), &links); err != nil {
		t.Fatal(err)
	}

	var found []string

	for _, link := range links {
		if link.Linkinfo.Kind == "tun" {
			found = append(found, link.Name)
		}
	}

	if len(found) != 1 {
		return ""
	}

	return found[0]
}

// latestHandshake is the peer's latest handshake on an interface (zero: none).
func latestHandshake(t *testing.T, iface string) time.Time {
	t.Helper()

	out, err := exec.Command("wg", "show", iface, "latest-handshakes").Output()
	if err != nil {
		return time.Time{}
	}

	fields := strings.Fields(string(out))
	if len(fields) < 2 {
		return time.Time{}
	}

	unixTime, _ := strconv.ParseInt(fields[1], 10, 64) //nolint:errcheck
	if unixTime == 0 {
		return time.Time{}
	}

	return time.Unix(unixTime, 0)
}

// tcpAcross listens on addr in one namespace and connects to it from another.
func tcpAcross(t *testing.T, fromNs, toNs, addr string) error {
	t.Helper()

	var lis net.Listener

	if err := fleet.InNetns(toNs, func() error {
		var err error

		lis, err = net.Listen("tcp", addr)

		return err
	}); err != nil {
		return err
	}

	defer lis.Close() //nolint:errcheck

	go func() {
		if c, err := lis.Accept(); err == nil {
			c.Write([]byte("hello across\n")) //nolint:errcheck
			c.Close()                         //nolint:errcheck
		}
	}()

	return fleet.InNetns(fromNs, func() error {
		conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			return err
		}

		defer conn.Close() //nolint:errcheck

		conn.SetReadDeadline(time.Now().Add(2 * time.Second)) //nolint:errcheck

		buf := make([]byte, 64)

		n, err := conn.Read(buf)
		if err != nil {
			return err
		}

		if string(buf[:n]) != "hello across\n" {
			return fmt.Errorf("read %q", buf[:n])
		}

		return nil
	})
}

func eventually(t *testing.T, timeout time.Duration, what string, ok func() error) {
	t.Helper()

	deadline := time.Now().Add(timeout)

	for {
		err := ok()
		if err == nil {
			return
		}

		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}

		time.Sleep(100 * time.Millisecond)
	}
}
