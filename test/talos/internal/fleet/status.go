package fleet

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"time"

	"hybridctl.dev/test/talos/internal/talosmode"
)

// NodeStatus is one node as GET /status reports it.
type NodeStatus struct {
	// IP is the address the node listens on; Name how the fleet knows it
	// (`nodes` metadata, etcd); they differ only for nodes added with AddNode.
	IP   string `json:"ip"`
	Name string `json:"name"`
	Role string `json:"role"`
	// Mode is maintenance, configured, rebooting, off (reset without reboot)
	// or booting (added with a boot delay that has not passed yet).
	Mode string `json:"mode"`
	// Listening is false while booting, rebooting or off, and for a configured
	// worker still waiting for a control plane to issue its API certificate.
	Listening bool `json:"listening"`
	// Platform is the runtime mode: metal, cloud or container.
	Platform string `json:"platform"`
	// CreatedBy is "flag" (--node, fleet.New) or "api" (POST /nodes, AddNode).
	CreatedBy string `json:"createdBy"`
	// Hostname is the node's hostname: its etcd member name.
	Hostname string `json:"hostname"`
	// MachineType is the applied config's machine.type ("" without a config).
	MachineType    string         `json:"machineType"`
	ApplyCount     int            `json:"applyCount"`
	BootstrapCount int            `json:"bootstrapCount"`
	LastApplyMode  string         `json:"lastApplyMode"`
	ConfigHash     string         `json:"configHash"`
	ClusterID      string         `json:"clusterID"`
	Bootstrapped   bool           `json:"bootstrapped"`
	StagedConfig   bool           `json:"stagedConfig"`
	Calls          map[string]int `json:"calls"`
	// Netns is the node's Linux network namespace ("" without one).
	Netns string `json:"netns"`
	// Links are the Talos names of the node's WireGuard links that exist:
	// realised in its namespace, or, without one, those of its active config.
	Links []string `json:"links"`
	// RealiseError is the last error realising the node's network in its
	// namespace ("" when the last attempt went through).
	RealiseError string `json:"realiseError"`
	// LostAddress says why the node lost its address (and is off the
	// network) under its active config; "" while it has it.
	LostAddress string `json:"lostAddress"`
}

// Status is the whole fleet, nodes in the order they were added.
type Status struct {
	Nodes []NodeStatus `json:"nodes"`
}

// Node finds a node's status by name, else by IP (zero if there is none).
func (s Status) Node(key string) NodeStatus {
	for _, n := range s.Nodes {
		if n.Name == key {
			return n
		}
	}

	for _, n := range s.Nodes {
		if n.IP == key {
			return n
		}
	}

	return NodeStatus{}
}

// Status reports every node.
func (f *Fleet) Status() Status {
	f.mu.Lock()
	defer f.mu.Unlock()

	status := Status{Nodes: []NodeStatus{}}

	for _, n := range f.order {
		status.Nodes = append(status.Nodes, f.statusLocked(n))
	}

	return status
}

func (f *Fleet) statusLocked(n *Node) NodeStatus {
	wgLinks, _, realiseErr := n.wireguardLinksLocked()

	links := []string{}
	for _, link := range wgLinks {
		links = append(links, link.Name)
	}

	machineType := ""
	if n.cfg != nil && n.cfg.Machine() != nil {
		machineType = n.cfg.Machine().Type().String()
	}

	return NodeStatus{
		IP:             n.ip,
		Name:           n.name,
		Role:           n.role,
		Mode:           string(n.state),
		Listening:      n.server != nil,
		Platform:       n.mode.String(),
		CreatedBy:      n.createdBy,
		Hostname:       n.hostnameLocked(),
		MachineType:    machineType,
		ApplyCount:     n.applyCount,
		BootstrapCount: n.bootstrapCount,
		LastApplyMode:  n.lastApplyMode,
		ConfigHash:     n.configHashLocked(),
		ClusterID:      n.clusterIDLocked(),
		Bootstrapped:   f.bootstrapped[n.clusterIDLocked()],
		StagedConfig:   n.staged != nil,
		Calls:          maps.Clone(n.calls),
		Netns:          n.network.netns,
		Links:          links,
		RealiseError:   realiseErr,
		LostAddress:    n.lostAddress,
	}
}

// Fail makes the next count calls of a method on a node (by name, else by
// IP) answer codes.Unavailable. The method is a MachineService method's name
// ("ApplyConfiguration") or SERVICE/METHOD ("cosi.resource.State/List").
func (f *Fleet) Fail(key, method string, count int) error {
	f.mu.Lock()
	defer f.mu.Unlock()

	n := f.findLocked(key)
	if n == nil {
		return errNoNode
	}

	n.failures[callKey(method)] += count

	return nil
}

// PowerOn boots a node (by name, else by IP) that a Reset without reboot powered off.
func (f *Fleet) PowerOn(key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()

	n := f.findLocked(key)
	if n == nil {
		return errNoNode
	}

	if n.state != stateOff {
		return conflict(fmt.Errorf("node %s is %s, not off", n.name, n.state))
	}

	n.bootLocked()

	return nil
}

// AddNodeRequest is the body of POST /nodes.
type AddNodeRequest struct {
	// Listen is the address the node listens on (port: the fleet's).
	Listen string `json:"listen"`
	// Name is how the fleet knows the node (default: Listen).
	Name string `json:"name"`
	Role string `json:"role"`
	// Platform is the runtime mode: cloud (default), metal or container.
	Platform string `json:"platform"`
	// Config is the user-data as text; ConfigBase64 the same base64-encoded
	// (as EC2 hands it over; may be gzipped). Neither: maintenance mode.
	Config       string `json:"config"`
	ConfigBase64 []byte `json:"configBase64"`
	// Hostname is the platform's hostname (EC2 metadata).
	Hostname string `json:"hostname"`
	// BootDelay is a Go duration ("500ms").
	BootDelay string `json:"bootDelay"`
	// Netns is a Linux network namespace where the node's network (WireGuard
	// links, routes, its name as a /32 on lo) is realised; the node still
	// listens on Listen in the fleet's namespace. Link, Prefix and Address
	// are as for --node (default eth0, 24, dhcp).
	Netns   string `json:"netns"`
	Link    string `json:"link"`
	Prefix  int    `json:"prefix"`
	Address string `json:"address"`
}

func (r AddNodeRequest) spec() (NodeSpec, error) {
	spec := NodeSpec{
		IP: r.Listen, Name: r.Name, Role: r.Role, Mode: talosmode.Cloud, Hostname: r.Hostname,
		Netns: r.Netns, Link: r.Link, Prefix: r.Prefix, Address: r.Address,
	}

	if r.Platform != "" {
		var err error
		if spec.Mode, err = talosmode.Parse(r.Platform); err != nil {
			return spec, err
		}
	}

	switch {
	case r.Config != "" && len(r.ConfigBase64) > 0:
		return spec, errors.New("give config or configBase64, not both")
	case r.Config != "":
		spec.UserData = []byte(r.Config)
	case len(r.ConfigBase64) > 0:
		spec.UserData = r.ConfigBase64
	}

	if r.BootDelay != "" {
		var err error
		if spec.BootDelay, err = time.ParseDuration(r.BootDelay); err != nil {
			return spec, fmt.Errorf("bootDelay: %w", err)
		}
	}

	return spec, nil
}

// maxRequestBody bounds POST /nodes bodies (a machine config is tens of kB).
const maxRequestBody = 8 << 20

// Handler serves the status endpoint: GET /status, POST /nodes,
// DELETE /nodes?name=NAME, POST /fail?name=NAME&method=NAME&count=N and
// POST /power-on?name=NAME (ip= works wherever name= does).
func (f *Fleet) Handler() http.Handler {
	mux := http.NewServeMux()

	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, f.Status())
	})

	mux.HandleFunc("POST /nodes", func(w http.ResponseWriter, r *http.Request) {
		var req AddNodeRequest

		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBody))
		dec.DisallowUnknownFields()

		if err := dec.Decode(&req); err != nil {
			http.Error(w, "bad request body: "+err.Error(), http.StatusBadRequest)

			return
		}

		// Idempotent first: whatever the rest of the body, a known name is answered as it is.
		name := req.Name
		if name == "" {
			name = req.Listen
		}

		if st, ok := f.existing(name); ok {
			writeJSON(w, http.StatusOK, st)

			return
		}

		spec, err := req.spec()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)

			return
		}

		st, created, err := f.AddNode(spec)
		if err != nil {
			respond(w, err)

			return
		}

		code := http.StatusOK
		if created {
			code = http.StatusCreated
		}

		writeJSON(w, code, st)
	})

	mux.HandleFunc("DELETE /nodes", func(w http.ResponseWriter, r *http.Request) {
		key, ok := nodeKey(w, r)
		if ok {
			respond(w, f.RemoveNode(key))
		}
	})

	mux.HandleFunc("POST /fail", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()

		count := 1
		if c := q.Get("count"); c != "" {
			var err error
			if count, err = strconv.Atoi(c); err != nil || count < 1 {
				http.Error(w, "count must be a positive integer", http.StatusBadRequest)

				return
			}
		}

		if q.Get("method") == "" {
			http.Error(w, "method is required", http.StatusBadRequest)

			return
		}

		if key, ok := nodeKey(w, r); ok {
			respond(w, f.Fail(key, q.Get("method"), count))
		}
	})

	mux.HandleFunc("POST /power-on", func(w http.ResponseWriter, r *http.Request) {
		if key, ok := nodeKey(w, r); ok {
			respond(w, f.PowerOn(key))
		}
	})

	return mux
}

// nodeKey is the node a request is about: name=, else ip=.
func nodeKey(w http.ResponseWriter, r *http.Request) (string, bool) {
	q := r.URL.Query()

	key := q.Get("name")
	if key == "" {
		key = q.Get("ip")
	}

	if key == "" {
		http.Error(w, "name (or ip) is required", http.StatusBadRequest)

		return "", false
	}

	return key, true
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v) //nolint:errcheck
}

func respond(w http.ResponseWriter, err error) {
	switch {
	case err == nil:
		w.WriteHeader(http.StatusNoContent)
	case errors.Is(err, errNoNode):
		http.Error(w, err.Error(), http.StatusNotFound)
	case errors.Is(err, errInvalid):
		http.Error(w, err.Error(), http.StatusBadRequest)
	case errors.Is(err, errConflict):
		http.Error(w, err.Error(), http.StatusConflict)
	default:
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}
