package fleet_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/client"
	machinetype "github.com/siderolabs/talos/pkg/machinery/config/machine"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/emptypb"

	"hybridctl.dev/test/talos/internal/fleet"
	"hybridctl.dev/test/talos/internal/talosmode"
)

func statusServer(t *testing.T, f *fleet.Fleet) string {
	t.Helper()

	srv := httptest.NewServer(f.Handler())
	t.Cleanup(srv.Close)

	return srv.URL
}

// call makes an HTTP request to the status endpoint; it answers the status code and body.
func call(t *testing.T, method, url string, body any) (int, []byte) {
	t.Helper()

	var reader io.Reader

	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}

		reader = bytes.NewReader(data)
	}

	req, err := http.NewRequestWithContext(ctx(t), method, url, reader)
	if err != nil {
		t.Fatal(err)
	}

	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}

	defer resp.Body.Close() //nolint:errcheck

	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}

	return resp.StatusCode, data
}

// addNode posts a node and decodes the status it answers, failing unless the code is want.
func addNode(t *testing.T, base string, body map[string]any, want int) fleet.NodeStatus {
	t.Helper()

	code, data := call(t, http.MethodPost, base+"/nodes", body)
	if code != want {
		t.Fatalf("POST /nodes %v: %d %s, want %d", body["name"], code, data, want)
	}

	var st fleet.NodeStatus
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatalf("%s: %v", data, err)
	}

	return st
}

func waitListening(t *testing.T, f *fleet.Fleet, name string) {
	t.Helper()

	deadline := time.Now().Add(10 * time.Second)
	for !f.Status().Node(name).Listening {
		if time.Now().After(deadline) {
			t.Fatalf("node %s not listening: %+v", name, f.Status().Node(name))
		}

		time.Sleep(10 * time.Millisecond)
	}
}

func memberHosts(t *testing.T, c machine.MachineServiceClient) []string {
	t.Helper()

	resp, err := c.EtcdMemberList(ctx(t), &machine.EtcdMemberListRequest{})
	if err != nil {
		t.Fatal(err)
	}

	var hosts []string
	for _, m := range resp.Messages[0].Members {
		hosts = append(hosts, m.Hostname)
	}

	return hosts
}

func gzipped(t *testing.T, data []byte) []byte {
	t.Helper()

	var buf bytes.Buffer

	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}

	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}

	return buf.Bytes()
}

func TestAddNode(t *testing.T) {
	demo := newCluster(t, "demo")
	cp := demo.config(t, machinetype.TypeControlPlane)
	f := startFleet(t)
	base := statusServer(t, f)

	node := func(name, listen, role string, config any) map[string]any {
		body := map[string]any{"listen": listen, "name": name, "role": role, "platform": "cloud"}
		if s, ok := config.(string); ok {
			body["config"] = s
		} else if config != nil {
			body["configBase64"] = config
		}

		return body
	}

	// Talos's own messages for user-data it cannot use; no node is made.
	code, msg := call(t, http.MethodPost, base+"/nodes", node("10.40.0.11", "127.77.20.1", "controlplane", "bogus: 1\n"+string(cp)))
	if code != http.StatusBadRequest || !strings.HasPrefix(string(msg), "failed to load config via platform aws: ") || !strings.Contains(string(msg), "unknown keys found during decoding:\nbogus: 1\n") {
		t.Fatalf("unknown key: %d %q", code, msg)
	}

	invalid := strings.Replace(string(cp), "endpoint: https://10.9.9.9:6443", "endpoint: ftp://", 1)

	code, msg = call(t, http.MethodPost, base+"/nodes", node("10.40.0.11", "127.77.20.1", "controlplane", invalid))
	if code != http.StatusBadRequest || !strings.HasPrefix(string(msg), "failed to validate config acquired via platform aws: ") {
		t.Fatalf("invalid config: %d %q", code, msg)
	}

	code, msg = call(t, http.MethodPost, base+"/nodes", node("10.40.0.11", "127.77.20.1", "worker", string(cp)))
	if code != http.StatusBadRequest || string(msg) != "the user-data is a controlplane config, the node is a worker\n" {
		t.Fatalf("role mismatch: %d %q", code, msg)
	}

	if n := len(f.Status().Nodes); n != 0 {
		t.Fatalf("%d nodes after refusals", n)
	}

	// A cloud node boots with its user-data: configured, no maintenance mode.
	body := node("10.40.0.11", "127.77.20.1", "controlplane", string(cp))
	body["bootDelay"] = "300ms"
	body["hostname"] = "ip-10-40-0-11.ec2.internal"

	st := addNode(t, base, body, http.StatusCreated)
	if st.Name != "10.40.0.11" || st.IP != "127.77.20.1" || st.CreatedBy != "api" || st.Platform != "cloud" ||
		st.Mode != "booting" || st.Listening || st.MachineType != "controlplane" || st.Hostname != "ip-10-40-0-11" {
		t.Fatalf("created %+v", st)
	}

	c := demo.client(t, "127.77.20.1")

	_, err := c.Version(ctx(t), &emptypb.Empty{})
	wantStatusContaining(t, err, codes.Unavailable, "connection refused")

	waitMode(t, f, "10.40.0.11", "configured")

	// A new connection: the refused one is in gRPC's reconnect backoff.
	v, err := demo.client(t, "127.77.20.1").Version(ctx(t), &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}

	if p := v.Messages[0].Platform; p.Name != "aws" || p.Mode != "cloud" || !v.Messages[0].Features.Rbac {
		t.Fatalf("version %v", v.Messages[0])
	}

	// Posting the name again changes nothing, whatever the body says.
	again := addNode(t, base, node("10.40.0.11", "127.77.20.9", "worker", "garbage"), http.StatusOK)
	if again.IP != "127.77.20.1" || again.ConfigHash != f.Status().Node("10.40.0.11").ConfigHash || again.Role != "controlplane" {
		t.Fatalf("repeated post %+v", again)
	}

	code, msg = call(t, http.MethodPost, base+"/nodes", node("10.40.0.99", "127.77.20.1", "controlplane", string(cp)))
	if code != http.StatusConflict || string(msg) != "node 10.40.0.11 already listens on 127.77.20.1\n" {
		t.Fatalf("same address: %d %q", code, msg)
	}

	// Gzipped user-data, base64 in JSON, as EC2 hands it over; a worker gets
	// its certificate from the control plane.
	worker := addNode(t, base, node("10.40.0.12", "127.77.20.2", "worker", gzipped(t, demo.config(t, machinetype.TypeWorker))), http.StatusCreated)
	if worker.MachineType != "worker" || worker.Hostname != "talos-10-40-0-12" {
		t.Fatalf("worker %+v", worker)
	}

	waitListening(t, f, "10.40.0.12")

	// No user-data: maintenance mode.
	bare := addNode(t, base, map[string]any{"listen": "127.77.20.3", "role": "worker"}, http.StatusCreated)
	if bare.Name != "127.77.20.3" || bare.Mode != "maintenance" || !bare.Listening || bare.Platform != "cloud" {
		t.Fatalf("bare %+v", bare)
	}

	if _, err = insecure(t, "127.77.20.3").Version(ctx(t), &emptypb.Empty{}); err != nil {
		t.Fatal(err)
	}

	var status fleet.Status

	code, msg = call(t, http.MethodGet, base+"/status", nil)
	if err = json.Unmarshal(msg, &status); code != http.StatusOK || err != nil || len(status.Nodes) != 3 {
		t.Fatalf("status %d %s", code, msg)
	}

	code, _ = call(t, http.MethodPost, base+"/nodes", map[string]any{"listen": "127.77.20.4", "role": "worker", "colour": "blue"})
	if code != http.StatusBadRequest {
		t.Fatalf("unknown field: %d", code)
	}
}

// A call for `nodes: [NAME]` reaches the node of that name, whichever node it
// is sent to: here the worker, as a load balancer would pick.
func TestRoutingByName(t *testing.T) {
	demo := newCluster(t, "demo")
	f := startFleet(t)
	base := statusServer(t, f)

	addNode(t, base, map[string]any{
		"listen": "127.77.21.1", "name": "10.40.1.11", "role": "controlplane",
		"config": string(demo.config(t, machinetype.TypeControlPlane)), "hostname": "ip-10-40-1-11.ec2.internal",
	}, http.StatusCreated)
	addNode(t, base, map[string]any{
		"listen": "127.77.21.2", "name": "10.40.1.12", "role": "worker",
		"config": string(demo.config(t, machinetype.TypeWorker)),
	}, http.StatusCreated)
	waitListening(t, f, "10.40.1.12")

	c := demo.client(t, "127.77.21.2")

	v, err := c.Version(client.WithNodes(ctx(t), "10.40.1.11", "10.40.1.12", "127.77.21.1"), &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}

	refused := "rpc error: code = Unavailable desc = connection error: desc = \"transport: Error while dialing: dial tcp 127.77.21.1:50000: connect: connection refused\""
	if len(v.Messages) != 3 ||
		v.Messages[0].Metadata.Hostname != "10.40.1.11" || v.Messages[0].Platform.Name != "aws" ||
		v.Messages[1].Metadata.Hostname != "10.40.1.12" || v.Messages[1].Metadata.Error != "" ||
		v.Messages[2].Metadata.Hostname != "127.77.21.1" || v.Messages[2].Metadata.Error != refused {
		t.Fatalf("version %v", v.Messages)
	}

	if _, err = c.Bootstrap(client.WithNode(ctx(t), "10.40.1.11"), &machine.BootstrapRequest{}); err != nil {
		t.Fatal(err)
	}

	if f.Status().Node("10.40.1.11").BootstrapCount != 1 {
		t.Fatal("bootstrap did not reach the control plane")
	}

	members, err := c.EtcdMemberList(client.WithNodes(ctx(t), "10.40.1.11"), &machine.EtcdMemberListRequest{})
	if err != nil {
		t.Fatal(err)
	}

	got := members.Messages[0]
	if got.Metadata.Hostname != "10.40.1.11" || len(got.Members) != 1 ||
		got.Members[0].Hostname != "ip-10-40-1-11" || got.Members[0].PeerUrls[0] != "https://10.40.1.11:2380" {
		t.Fatalf("members %v", got)
	}

	code, _ := call(t, http.MethodPost, base+"/fail?name=10.40.1.12&method=Version", nil)
	if code != http.StatusNoContent {
		t.Fatalf("fail: %d", code)
	}

	// Through the control plane: a call made to the failing node itself fails as a whole.
	v, err = demo.client(t, "127.77.21.1").Version(client.WithNodes(ctx(t), "10.40.1.12"), &emptypb.Empty{})
	if err != nil || v.Messages[0].Metadata.Error != "rpc error: code = Unavailable desc = injected failure of Version on 10.40.1.12" {
		t.Fatalf("injected failure: %v %v", v, err)
	}
}

func TestDeleteNode(t *testing.T) {
	demo := newCluster(t, "demo")
	cp := string(demo.config(t, machinetype.TypeControlPlane))
	f := startFleet(t)
	base := statusServer(t, f)

	for i := 1; i <= 2; i++ {
		addNode(t, base, map[string]any{"listen": fmt.Sprintf("127.77.22.%d", i), "name": fmt.Sprintf("10.40.2.1%d", i), "role": "controlplane", "config": cp}, http.StatusCreated)
	}

	cp1 := demo.client(t, "127.77.22.1")
	if _, err := cp1.Bootstrap(ctx(t), &machine.BootstrapRequest{}); err != nil {
		t.Fatal(err)
	}

	if got := memberHosts(t, cp1); strings.Join(got, " ") != "talos-10-40-2-11 talos-10-40-2-12" {
		t.Fatalf("members %v", got)
	}

	if code, _ := call(t, http.MethodDelete, base+"/nodes?name=10.40.2.12", nil); code != http.StatusNoContent {
		t.Fatalf("delete: %d", code)
	}

	if got := memberHosts(t, cp1); strings.Join(got, " ") != "talos-10-40-2-11" {
		t.Fatalf("members after delete %v", got)
	}

	_, err := demo.client(t, "127.77.22.2").Version(ctx(t), &emptypb.Empty{})
	wantStatusContaining(t, err, codes.Unavailable, "connection refused")

	v, err := cp1.Version(client.WithNodes(ctx(t), "10.40.2.12"), &emptypb.Empty{})
	if err != nil || !strings.Contains(v.Messages[0].Metadata.Error, "dial tcp 10.40.2.12:50000: connect: connection refused") {
		t.Fatalf("routed to a deleted node: %v %v", v, err)
	}

	if st := f.Status(); len(st.Nodes) != 1 || st.Nodes[0].Name != "10.40.2.11" {
		t.Fatalf("status %+v", st)
	}

	if code, _ := call(t, http.MethodDelete, base+"/nodes?name=10.40.2.12", nil); code != http.StatusNotFound {
		t.Fatalf("second delete: %d", code)
	}

	if code, _ := call(t, http.MethodDelete, base+"/nodes", nil); code != http.StatusBadRequest {
		t.Fatalf("delete without a name: %d", code)
	}

	// A new instance with the same address joins the running cluster.
	addNode(t, base, map[string]any{"listen": "127.77.22.2", "name": "10.40.2.12", "role": "controlplane", "config": cp}, http.StatusCreated)

	if got := memberHosts(t, cp1); len(got) != 2 {
		t.Fatalf("members after re-adding %v", got)
	}

	// Without control planes the cluster is gone.
	for _, name := range []string{"10.40.2.11", "10.40.2.12"} {
		if code, _ := call(t, http.MethodDelete, base+"/nodes?name="+name, nil); code != http.StatusNoContent {
			t.Fatalf("delete %s: %d", name, code)
		}
	}

	st := addNode(t, base, map[string]any{"listen": "127.77.22.1", "name": "10.40.2.11", "role": "controlplane", "config": cp}, http.StatusCreated)
	if st.Bootstrapped {
		t.Fatal("cluster still bootstrapped after deleting all its control planes")
	}
}

// A graceful Reset of a control plane leaves etcd first (even when the disk
// keeps its config); a non-graceful one that keeps the disk does not.
func TestGracefulResetLeavesEtcd(t *testing.T) {
	demo := newCluster(t, "demo")
	cp := demo.config(t, machinetype.TypeControlPlane)
	f := startFleet(t,
		fleet.NodeSpec{IP: "127.77.23.1", Role: "controlplane", Mode: talosmode.Metal, Preconfigured: cp, Bootstrapped: true},
		fleet.NodeSpec{IP: "127.77.23.2", Role: "controlplane", Mode: talosmode.Metal, Preconfigured: cp, Bootstrapped: true},
		fleet.NodeSpec{IP: "127.77.23.3", Role: "controlplane", Mode: talosmode.Metal, Preconfigured: cp, Bootstrapped: true},
	)
	base := statusServer(t, f)

	addNode(t, base, map[string]any{"listen": "127.77.23.4", "name": "10.40.3.14", "role": "controlplane", "config": string(cp)}, http.StatusCreated)

	cp1 := demo.client(t, "127.77.23.1")
	if got := memberHosts(t, cp1); len(got) != 4 {
		t.Fatalf("members %v", got)
	}

	if st := f.Status().Node("127.77.23.2"); st.Name != "127.77.23.2" || st.CreatedBy != "flag" {
		t.Fatalf("flag node %+v", st)
	}

	before := f.Status().Node("127.77.23.2").ConfigHash

	_, err := demo.client(t, "127.77.23.2").Reset(ctx(t), &machine.ResetRequest{Graceful: true, Reboot: true, Mode: machine.ResetRequest_USER_DISKS})
	if err != nil {
		t.Fatal(err)
	}

	if got := memberHosts(t, cp1); strings.Join(got, " ") != "talos-127-77-23-1 talos-127-77-23-3 talos-10-40-3-14" {
		t.Fatalf("members after a graceful reset %v", got)
	}

	// The disk kept its config: after the reboot the node joins again.
	waitMode(t, f, "127.77.23.2", "rebooting")
	waitMode(t, f, "127.77.23.2", "configured")

	if got := memberHosts(t, cp1); len(got) != 4 || f.Status().Node("127.77.23.2").ConfigHash != before {
		t.Fatalf("members after the reboot %v", got)
	}

	// Not graceful, disk kept: the member stays, powered off as it is.
	_, err = demo.client(t, "127.77.23.3").Reset(ctx(t), &machine.ResetRequest{Reboot: false, Mode: machine.ResetRequest_USER_DISKS})
	if err != nil {
		t.Fatal(err)
	}

	waitMode(t, f, "127.77.23.3", "off")

	if got := memberHosts(t, cp1); len(got) != 4 {
		t.Fatalf("members after a non-graceful reset %v", got)
	}

	// A cloud node reset for good leaves etcd; rebooting, it finds its
	// user-data again, comes back configured and joins again.
	_, err = demo.client(t, "127.77.23.4").Reset(ctx(t), &machine.ResetRequest{Graceful: true, Reboot: true})
	if err != nil {
		t.Fatal(err)
	}

	if got := memberHosts(t, cp1); len(got) != 3 || f.Status().Node("10.40.3.14").ConfigHash != "" {
		t.Fatalf("members after resetting the cloud node %v", got)
	}

	waitMode(t, f, "10.40.3.14", "configured")

	if got := memberHosts(t, cp1); len(got) != 4 {
		t.Fatalf("members after the cloud node's reboot %v", got)
	}
}

// Ten instances starting at once, then their user-data posted again.
func TestAddManyNodes(t *testing.T) {
	demo := newCluster(t, "demo")
	cp := string(demo.config(t, machinetype.TypeControlPlane))
	worker := string(demo.config(t, machinetype.TypeWorker))
	f := startFleet(t)
	base := statusServer(t, f)

	const count = 10

	post := func(i int) (int, []byte) {
		role, config := "worker", worker
		if i < 3 {
			role, config = "controlplane", cp
		}

		return call(t, http.MethodPost, base+"/nodes", map[string]any{
			"listen": fmt.Sprintf("127.77.24.%d", i+1), "name": fmt.Sprintf("10.40.4.%d", i+1),
			"role": role, "config": config, "bootDelay": fmt.Sprintf("%dms", 10*i),
		})
	}

	for round, want := range []int{http.StatusCreated, http.StatusOK} {
		var wg sync.WaitGroup

		got := make([]int, count)

		for i := range count {
			wg.Go(func() { got[i], _ = post(i) })
		}

		wg.Wait()

		for i, code := range got {
			if code != want {
				t.Fatalf("round %d, node %d: %d, want %d", round, i, code, want)
			}
		}
	}

	for i := range count {
		waitListening(t, f, fmt.Sprintf("10.40.4.%d", i+1))
	}

	v, err := demo.client(t, "127.77.24.10").Version(client.WithNodes(ctx(t), "10.40.4.1", "10.40.4.5", "10.40.4.10"), &emptypb.Empty{})
	if err != nil || len(v.Messages) != 3 {
		t.Fatalf("version %v %v", v, err)
	}

	for _, m := range v.Messages {
		if m.Metadata.Error != "" {
			t.Fatalf("version %v", m)
		}
	}

	if n := len(f.Status().Nodes); n != count {
		t.Fatalf("%d nodes", n)
	}
}
