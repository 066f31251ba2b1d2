package fleet

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strconv"
)

// NodeStatus is one node as GET /status reports it.
type NodeStatus struct {
	IP   string `json:"ip"`
	Role string `json:"role"`
	// Mode is maintenance, configured, rebooting or off (reset without reboot).
	Mode string `json:"mode"`
	// Listening is false while rebooting or off, and for a configured worker
	// still waiting for a control plane to issue its API certificate.
	Listening bool   `json:"listening"`
	Platform  string `json:"platform"`
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
}

// Status is the whole fleet, nodes in the order they were given.
type Status struct {
	Nodes []NodeStatus `json:"nodes"`
}

// Node finds a node's status by IP (zero if there is none).
func (s Status) Node(ip string) NodeStatus {
	for _, n := range s.Nodes {
		if n.IP == ip {
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

	for _, ip := range f.order {
		n := f.nodes[ip]

		machineType := ""
		if n.cfg != nil && n.cfg.Machine() != nil {
			machineType = n.cfg.Machine().Type().String()
		}

		status.Nodes = append(status.Nodes, NodeStatus{
			IP:             ip,
			Role:           n.role,
			Mode:           string(n.state),
			Listening:      n.server != nil,
			Platform:       n.mode.String(),
			MachineType:    machineType,
			ApplyCount:     n.applyCount,
			BootstrapCount: n.bootstrapCount,
			LastApplyMode:  n.lastApplyMode,
			ConfigHash:     n.configHashLocked(),
			ClusterID:      n.clusterIDLocked(),
			Bootstrapped:   f.bootstrapped[n.clusterIDLocked()],
			StagedConfig:   n.staged != nil,
			Calls:          maps.Clone(n.calls),
		})
	}

	return status
}

var errNoNode = errors.New("no such node")

// Fail makes the next count calls of a method (e.g. "ApplyConfiguration") on a
// node answer codes.Unavailable.
func (f *Fleet) Fail(ip, method string, count int) error {
	f.mu.Lock()
	defer f.mu.Unlock()

	n := f.nodes[ip]
	if n == nil {
		return errNoNode
	}

	n.failures[methodName(method)] += count

	return nil
}

// PowerOn boots a node that a Reset without reboot powered off.
func (f *Fleet) PowerOn(ip string) error {
	f.mu.Lock()
	defer f.mu.Unlock()

	n := f.nodes[ip]
	if n == nil {
		return errNoNode
	}

	if n.state != stateOff {
		return fmt.Errorf("node %s is %s, not off", ip, n.state)
	}

	n.bootLocked()

	return nil
}

// Handler serves GET /status, POST /fail?ip=IP&method=NAME&count=N and
// POST /power-on?ip=IP.
func (f *Fleet) Handler() http.Handler {
	mux := http.NewServeMux()

	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(f.Status()) //nolint:errcheck
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

		respond(w, f.Fail(q.Get("ip"), q.Get("method"), count))
	})

	mux.HandleFunc("POST /power-on", func(w http.ResponseWriter, r *http.Request) {
		respond(w, f.PowerOn(r.URL.Query().Get("ip")))
	})

	return mux
}

func respond(w http.ResponseWriter, err error) {
	switch {
	case err == nil:
		w.WriteHeader(http.StatusNoContent)
	case errors.Is(err, errNoNode):
		http.Error(w, err.Error(), http.StatusNotFound)
	default:
		http.Error(w, err.Error(), http.StatusConflict)
	}
}
