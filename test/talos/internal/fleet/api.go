package fleet

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
)

var (
	errInvalid  = errors.New("invalid node")
	errConflict = errors.New("conflicting node")
	errNoNode   = errors.New("no such node")
)

// kindError is an error of a kind (errInvalid, errConflict) whose text is only
// its own (Talos's message, for instance), without the kind's.
type kindError struct{ kind, err error }

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.kind, e.err} }

func invalid(err error) error  { return &kindError{kind: errInvalid, err: err} }
func conflict(err error) error { return &kindError{kind: errConflict, err: err} }

// AddNode adds a node to a running fleet, as a cloud instance booting: with
// spec.UserData it comes up configured (a bad config is refused with Talos's
// message, errInvalid), without it in maintenance mode. It answers the node's
// status and whether it was created: a node of that name already in the fleet
// is answered unchanged, whatever the spec. The node listens before AddNode
// returns unless spec.BootDelay keeps it off the network for a while.
func (f *Fleet) AddNode(spec NodeSpec) (NodeStatus, bool, error) {
	if spec.Name == "" {
		spec.Name = spec.IP
	}

	if st, ok := f.existing(spec.Name); ok {
		return st, false, nil
	}

	// Loading and validating the config takes a while: not under the lock.
	n, err := newNode(f, spec, createdByAPI)
	if err != nil {
		return NodeStatus{}, false, err
	}

	f.mu.Lock()
	defer f.mu.Unlock()

	if existing := f.nodes[n.name]; existing != nil {
		return f.statusLocked(existing), false, nil
	}

	if f.ctx.Err() != nil {
		return NodeStatus{}, false, errors.New("the fleet is shutting down")
	}

	if err = f.checkUniqueLocked(n); err != nil {
		return NodeStatus{}, false, err
	}

	if spec.BootDelay > 0 {
		// Refuse now an address the node could not listen on once booted.
		lis, err := net.Listen("tcp", net.JoinHostPort(n.ip, strconv.Itoa(f.opts.Port)))
		if err != nil {
			return NodeStatus{}, false, err
		}

		lis.Close() //nolint:errcheck

		n.state = stateBooting
		n.bootAfterLocked(spec.BootDelay)
	} else if err = n.serveLocked(); err != nil {
		return NodeStatus{}, false, err
	}

	f.addLocked(n)
	n.logf("added (%s %s on %s, boot delay %s)", n.mode, n.role, n.ip, spec.BootDelay)

	return f.statusLocked(n), true, nil
}

func (f *Fleet) existing(name string) (NodeStatus, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()

	if n := f.nodes[name]; n != nil {
		return f.statusLocked(n), true
	}

	return NodeStatus{}, false
}

// RemoveNode stops a node and forgets it, as its instance is terminated; key
// is its name (or the address it listens on). Its etcd membership goes with it.
// The node's listener is closed when RemoveNode returns.
func (f *Fleet) RemoveNode(key string) error {
	f.mu.Lock()

	n := f.findLocked(key)
	if n == nil {
		f.mu.Unlock()

		return errNoNode
	}

	delete(f.nodes, n.name)
	f.order = slices.DeleteFunc(f.order, func(other *Node) bool { return other == n })

	n.removed = true
	srv := n.server
	n.server = nil
	n.shutdownLocked(stateOff)

	if clusterID := n.clusterIDLocked(); clusterID != "" {
		f.forgetClusterLocked(clusterID)
	}

	f.mu.Unlock()

	srv.stop()

	if n.net != nil {
		n.net.close()
	}

	n.logf("removed")

	return nil
}

// gunzipUserData is what the acquire controller does to gzipped user-data.
func gunzipUserData(data []byte) ([]byte, error) {
	if http.DetectContentType(data) != "application/x-gzip" {
		return data, nil
	}

	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("error creating gzip reader: %w", err)
	}

	defer zr.Close() //nolint:errcheck

	unzipped, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("error unzipping machine config: %w", err)
	}

	return unzipped, nil
}
