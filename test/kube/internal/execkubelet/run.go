package execkubelet

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// execute runs pod's container to its end, from dir, and says how it ended; nil
// means the test bed is stopping. root is where the image's copy goes.
func (k *kubelet) execute(ctx context.Context, pod *corev1.Pod, dir, root string) *exit {
	startError := func(err error) *exit {
		now := time.Now()
		return &exit{code: 128, reason: reasonStartError, message: err.Error(), finished: now}
	}
	if pod.Status.Phase == corev1.PodRunning {
		// Started by an earlier run of the test bed, and killed when it stopped.
		return &exit{code: 137, reason: reasonUnknown, finished: time.Now(),
			message: "The container could not be located when the pod was terminated"}
	}
	cmd, netns, err := k.command(pod)
	if err != nil {
		return startError(err)
	}
	c := &pod.Spec.Containers[0]
	msgFile, err := prepare(k.Rootfs, root, c)
	if err != nil {
		return startError(fmt.Errorf("root file system: %w", err))
	}
	cmd.SysProcAttr.Chroot = root
	logPath := filepath.Join(dir, c.Name+".log")
	log, err := os.Create(logPath)
	if err != nil {
		return startError(err)
	}
	defer log.Close()
	cmd.Stdout, cmd.Stderr = log, log

	p, err := start(netns, cmd)
	if err != nil {
		return startError(err)
	}
	e := &exit{containerID: "exec://" + strconv.Itoa(p.Pid), started: time.Now()}
	k.report(pod, func(cur *corev1.Pod) corev1.PodStatus { return running(cur, e.containerID, e.started) })

	var deadline <-chan time.Time
	if s := pod.Spec.ActiveDeadlineSeconds; s != nil {
		deadline = time.After(time.Duration(*s)*time.Second - time.Since(e.started))
	}
	deadlineExceeded := false
	select {
	case <-p.exited:
	case <-deadline:
		deadlineExceeded = true
		p.stop()
	case <-ctx.Done():
		p.stop()
		if !errors.Is(context.Cause(ctx), errDeleted) {
			return nil
		}
	}
	e.finished = time.Now()
	e.code = exitCode(p.status)
	e.reason = exitReason(e.code, deadlineExceeded)
	e.message = terminationMessage(readTail(msgFile, maxMessageBytes), readTail(logPath, maxLogMessageBytes), e.code, c.TerminationMessagePolicy)
	return e
}

// command is the pod's container as a process, still without its root, and the
// network namespace of the node the pod is bound to.
func (k *kubelet) command(pod *corev1.Pod) (*exec.Cmd, string, error) {
	netns, ok := k.NetNS[pod.Spec.NodeName]
	if !ok {
		return nil, "", fmt.Errorf("exec kubelet: node %s has no network namespace (--exec-netns %s=NETNS)", pod.Spec.NodeName, pod.Spec.NodeName)
	}
	if !strings.Contains(netns, "/") {
		netns = filepath.Join("/run/netns", netns)
	}
	if len(pod.Spec.Containers) != 1 || len(pod.Spec.InitContainers) > 0 {
		return nil, "", errors.New("exec kubelet: runs pods of exactly one container and no init containers")
	}
	c := &pod.Spec.Containers[0]
	if len(c.Command) == 0 {
		return nil, "", fmt.Errorf("exec kubelet: container %s has no command, and the test bed does not know image %s's entrypoint", c.Name, c.Image)
	}
	env := environment(c)
	argv := append(slices.Clone(c.Command), c.Args...)
	argv[0] = lookPath(k.Rootfs, argv[0], env)
	uid, gid := user(pod, c)
	return &exec.Cmd{
		Path: argv[0],
		Args: argv,
		Env:  env,
		Dir:  cmp.Or(c.WorkingDir, "/"),
		SysProcAttr: &syscall.SysProcAttr{
			Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}},
			// A PID namespace makes the process its PID 1: when it dies, so does everything it started.
			Cloneflags: syscall.CLONE_NEWPID,
			// Go sets this after changing user, which would clear it (chroot --userspec can't keep it).
			Pdeathsig: syscall.SIGKILL,
		},
	}, netns, nil
}

// environment is the container's env entries that have a plain value, with a
// default PATH as container runtimes give when the image has none.
func environment(c *corev1.Container) []string {
	env := []string{"PATH=" + defaultPath}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			env = append(env, e.Name+"="+e.Value)
		}
	}
	return env // a later PATH overrides the default in exec
}

// lookPath finds a command without a slash along the container's PATH in the image, like runc.
func lookPath(image, name string, env []string) string {
	if strings.Contains(name, "/") {
		return name
	}
	pathEnv := defaultPath
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			pathEnv = v
		}
	}
	for _, dir := range filepath.SplitList(pathEnv) {
		p := path.Join("/", dir, name)
		if info, err := os.Lstat(filepath.Join(image, p)); err == nil && !info.IsDir() {
			return p
		}
	}
	return name
}

// user is the UID and GID the container runs as: the container's runAsUser and
// runAsGroup, else the pod's, else root.
func user(pod *corev1.Pod, c *corev1.Container) (uid, gid int64) {
	var u, g *int64
	if sc := pod.Spec.SecurityContext; sc != nil {
		u, g = sc.RunAsUser, sc.RunAsGroup
	}
	if sc := c.SecurityContext; sc != nil {
		u, g = cmp.Or(sc.RunAsUser, u), cmp.Or(sc.RunAsGroup, g)
	}
	return ptr.Deref(u, 0), ptr.Deref(g, 0)
}

// prepare makes root a copy of the image whose files are hard links, with an
// empty termination message file and a /tmp anyone can write, and returns the
// message file's path.
func prepare(image, root string, c *corev1.Container) (string, error) {
	if err := copyTree(image, root); err != nil {
		return "", err
	}
	tmp := filepath.Join(root, "tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return "", err
	}
	if err := os.Chmod(tmp, 0o777|os.ModeSticky); err != nil {
		return "", err
	}
	// Cleaned as an absolute path first, so that it stays inside root.
	msg := filepath.Join(root, filepath.Clean("/"+cmp.Or(c.TerminationMessagePath, "/dev/termination-log")))
	if err := os.MkdirAll(filepath.Dir(msg), 0o755); err != nil {
		return "", err
	}
	// The image's own file, if any, is a hard link to the image: replace it.
	if err := os.Remove(msg); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if err := os.WriteFile(msg, nil, 0o666); err != nil {
		return "", err
	}
	return msg, os.Chmod(msg, 0o666)
}

// copyTree makes dst (which must not exist) a copy of src: directories and
// symbolic links with their modes and owners, regular files as hard links (or
// copies across file systems); other files are left out.
func copyTree(src, dst string) error {
	src, err := filepath.EvalSymlinks(src)
	if err != nil {
		return err
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			err = os.Mkdir(target, 0o700)
			if err == nil {
				err = os.Chmod(target, info.Mode()&(fs.ModePerm|fs.ModeSticky|fs.ModeSetgid|fs.ModeSetuid))
			}
		case d.Type() == fs.ModeSymlink:
			var link string
			if link, err = os.Readlink(p); err == nil {
				err = os.Symlink(link, target)
			}
		case d.Type().IsRegular():
			if os.Link(p, target) == nil {
				return nil // same inode: same mode and owner
			}
			err = copyFile(p, target, info.Mode())
		default:
			return nil
		}
		if err != nil {
			return err
		}
		st := info.Sys().(*syscall.Stat_t)
		return os.Lchown(target, int(st.Uid), int(st.Gid))
	})
}

func copyFile(src, dst string, mode fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode.Perm())
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	return errors.Join(err, out.Close(), os.Chmod(dst, mode&(fs.ModePerm|fs.ModeSetgid|fs.ModeSetuid)))
}

// readTail is the last n bytes of a file; nothing if it cannot be read.
func readTail(name string, n int64) []byte {
	f, err := os.Open(name)
	if err != nil {
		return nil
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && info.Size() > n {
		if _, err := f.Seek(info.Size()-n, io.SeekStart); err != nil {
			return nil
		}
	}
	data, _ := io.ReadAll(io.LimitReader(f, n))
	return data
}

// process is a started container process.
type process struct {
	*os.Process
	exited chan struct{}
	status syscall.WaitStatus // once exited is closed
}

// start starts cmd in a network namespace (a file like /run/netns/NAME).
func start(netns string, cmd *exec.Cmd) (*process, error) {
	p := &process{exited: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		// The thread enters the namespace and so is never handed back to Go: a
		// goroutine that ends locked to its thread ends the thread too. It also
		// has to outlive the process, whose parent-death signal follows the thread.
		runtime.LockOSThread()
		err := enterNetns(netns)
		if err == nil {
			err = cmd.Start()
		}
		if err != nil {
			started <- err
			return
		}
		p.Process = cmd.Process
		started <- nil
		_ = cmd.Wait()
		if cmd.ProcessState != nil {
			p.status = cmd.ProcessState.Sys().(syscall.WaitStatus)
		}
		close(p.exited)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

func enterNetns(netns string) error {
	f, err := os.Open(netns)
	if err != nil {
		return fmt.Errorf("network namespace: %w", err)
	}
	defer f.Close()
	if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("enter network namespace %s: %w", netns, err)
	}
	return nil
}

// stop kills the process (and, as its PID namespace's init, all it started) and waits for it.
func (p *process) stop() {
	_ = p.Kill()
	<-p.exited
}
