package fleet

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// wireguardSocketDir holds wireguard-go's UAPI sockets, one per interface
// name, for the whole machine: the sockets are files, not per namespace.
const wireguardSocketDir = "/var/run/wireguard"

var ifaceCounter atomic.Uint64

// newIfaceName names a real WireGuard interface: "hw", this process's pid and
// a counter, in base 36 ("hw1z4kx3"). Unique on the machine among live
// fleets (pids are), at most 15 characters. Talos's link name (the document's
// name) is what the fleet reports; this one only exists in the namespace.
func newIfaceName() string {
	// A pid is at most 2^22 (5 base-36 digits): 2+5+1 characters leave 7 for the counter.
	return "hw" + strconv.FormatInt(int64(os.Getpid()), 36) + "x" + strconv.FormatUint(ifaceCounter.Add(1), 36)
}

// wgProcess is a wireguard-go serving one interface in a namespace.
type wgProcess struct {
	iface  string
	cmd    *exec.Cmd
	done   chan struct{}
	output *lockedBuffer
}

// startWireguardGo runs `ip netns exec NS wireguard-go IFACE` in the
// foreground (WG_PROCESS_FOREGROUND=1) and waits for its UAPI socket. The
// process dies with the fleet (Pdeathsig; `ip netns exec` execs wireguard-go,
// keeping the signal).
func startWireguardGo(logf func(string, ...any), ns, iface string) (*wgProcess, error) {
	output := &lockedBuffer{}

	cmd := exec.Command("ip", "netns", "exec", ns, "wireguard-go", iface)
	cmd.Env = append(os.Environ(), "WG_PROCESS_FOREGROUND=1")
	cmd.Stdout, cmd.Stderr = output, output
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}

	logf("run: WG_PROCESS_FOREGROUND=1 ip netns exec %s wireguard-go %s", ns, iface)

	if err := startOnSpawner(cmd); err != nil {
		err = fmt.Errorf("starting wireguard-go %s: %w", iface, err)
		logf("failed: %v", err)

		return nil, err
	}

	p := &wgProcess{iface: iface, cmd: cmd, done: make(chan struct{}), output: output}

	go func() {
		err := cmd.Wait()
		logf("wireguard-go %s exited (%v): %s", iface, err, bytes.TrimSpace(output.Bytes()))
		close(p.done)
	}()

	socket := filepath.Join(wireguardSocketDir, iface+".sock")
	deadline := time.Now().Add(5 * time.Second)

	for {
		if _, err := os.Stat(socket); err == nil {
			return p, nil
		}

		select {
		case <-p.done:
			err := fmt.Errorf("wireguard-go %s exited before opening %s: %s", iface, socket, bytes.TrimSpace(output.Bytes()))
			logf("failed: %v", err)

			return nil, err
		case <-time.After(20 * time.Millisecond):
		}

		if time.Now().After(deadline) {
			p.stop()

			err := fmt.Errorf("wireguard-go %s: no %s after 5s", iface, socket)
			logf("failed: %v", err)

			return nil, err
		}
	}
}

// stop ends wireguard-go (SIGTERM, so it removes its socket and TUN device;
// SIGKILL after 2s) and waits for it.
func (p *wgProcess) stop() {
	if p == nil {
		return
	}

	p.cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck

	select {
	case <-p.done:
	case <-time.After(2 * time.Second):
		p.cmd.Process.Kill() //nolint:errcheck
		<-p.done
	}

	os.Remove(filepath.Join(wireguardSocketDir, p.iface+".sock")) //nolint:errcheck
}

// Pdeathsig fires when the thread that forked the child ends, not the
// process: Go ends threads whose goroutine exits locked (inNetns does that
// when it cannot leave a namespace). So children are forked from one thread
// locked for the life of the process.
var (
	spawnOnce sync.Once
	spawnCh   chan func()
)

func startOnSpawner(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		spawnCh = make(chan func())

		go func() {
			runtime.LockOSThread()

			for fn := range spawnCh {
				fn()
			}
		}()
	})

	result := make(chan error, 1)
	spawnCh <- func() { result <- cmd.Start() }

	return <-result
}

// lockedBuffer collects a child's output, written and read concurrently.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()

	if b.buf.Len() > 64<<10 {
		return len(p), nil
	}

	return b.buf.Write(p)
}

func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()

	return bytes.Clone(b.buf.Bytes())
}

var errNoWireguardGo = errors.New("wireguard-go is not installed")

// checkWireguardTools finds the programs realising WireGuard links needs.
func checkWireguardTools() error {
	for _, tool := range []string{"ip", "wg"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is not installed: %w", tool, err)
		}
	}

	if _, err := exec.LookPath("wireguard-go"); err != nil {
		return errNoWireguardGo
	}

	return nil
}
