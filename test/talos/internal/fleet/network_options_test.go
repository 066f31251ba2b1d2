package fleet_test

import (
	"net/http"
	"strings"
	"testing"
)

// POST /nodes refuses network options it cannot honour, and makes no node.
func TestAddNodeNetworkOptions(t *testing.T) {
	f := startFleet(t)
	base := statusServer(t, f)

	for _, tc := range []struct {
		body map[string]any
		want string
	}{
		{map[string]any{"netns": "hw-no-such-namespace"}, `netns "hw-no-such-namespace": stat /var/run/netns/hw-no-such-namespace: no such file or directory (create it with ip netns add)`},
		{map[string]any{"netns": "../etc"}, `netns "../etc": not a namespace name`},
		{map[string]any{"address": "bootp"}, `address "bootp": want dhcp or static`},
		{map[string]any{"prefix": 33}, "prefix 33: want 1 to 32"},
		{map[string]any{"link": "a-very-long-interface-name"}, `link "a-very-long-interface-name" is not an interface name`},
	} {
		body := map[string]any{"listen": "127.77.34.1", "name": "10.40.9.1", "role": "controlplane"}
		for k, v := range tc.body {
			body[k] = v
		}

		code, msg := call(t, http.MethodPost, base+"/nodes", body)
		if code != http.StatusBadRequest || strings.TrimSpace(string(msg)) != tc.want {
			t.Errorf("%v: %d %q, want 400 %q", tc.body, code, msg, tc.want)
		}
	}

	if n := len(f.Status().Nodes); n != 0 {
		t.Fatalf("%d nodes", n)
	}
}
