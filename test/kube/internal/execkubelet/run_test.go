package execkubelet

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

func TestUser(t *testing.T) {
	pod := testPod()
	c := &pod.Spec.Containers[0]
	if uid, gid := user(pod, c); uid != 0 || gid != 0 {
		t.Errorf("default: %d:%d", uid, gid)
	}
	pod.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsUser: ptr.To[int64](1000), RunAsGroup: ptr.To[int64](2000)}
	c.SecurityContext = &corev1.SecurityContext{RunAsUser: ptr.To[int64](65532)}
	if uid, gid := user(pod, c); uid != 65532 || gid != 2000 {
		t.Errorf("container over pod: %d:%d", uid, gid)
	}
}

func TestEnvironmentAndLookPath(t *testing.T) {
	image := t.TempDir()
	for _, f := range []string{"bin/probe", "opt/tools/probe"} {
		writeFile(t, filepath.Join(image, f), "x", 0o755)
	}
	c := &corev1.Container{Env: []corev1.EnvVar{
		{Name: "SITE", Value: "a"},
		{Name: "NODE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}},
	}}
	env := environment(c)
	if !slices.Equal(env, []string{"PATH=" + defaultPath, "SITE=a"}) {
		t.Errorf("environment %q", env)
	}
	if got := lookPath(image, "probe", env); got != "/bin/probe" {
		t.Errorf("probe on the default PATH: %s", got)
	}
	if got := lookPath(image, "probe", append(env, "PATH=/opt/tools")); got != "/opt/tools/probe" {
		t.Errorf("probe on the container's PATH: %s", got)
	}
	if got := lookPath(image, "/probe", env); got != "/probe" {
		t.Errorf("absolute: %s", got)
	}
	if got := lookPath(image, "missing", env); got != "missing" {
		t.Errorf("missing: %s", got)
	}
}

func TestCommandRefusesWhatItCannotRun(t *testing.T) {
	k := &kubelet{Config: Config{NetNS: map[string]string{"n1": "site-a"}, Rootfs: t.TempDir()}}
	for want, change := range map[string]func(*corev1.Pod){
		"node n2 has no network namespace": func(p *corev1.Pod) { p.Spec.NodeName = "n2" },
		"does not know image":              func(p *corev1.Pod) { p.Spec.Containers[0].Command = nil },
		"exactly one container":            func(p *corev1.Pod) { p.Spec.Containers = append(p.Spec.Containers, p.Spec.Containers[0]) },
	} {
		pod := testPod()
		pod.Spec.Containers[0].Command = []string{"/probe"}
		change(pod)
		if _, _, err := k.command(pod); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want an error with %q, got %v", want, err)
		}
	}

	pod := testPod()
	c := &pod.Spec.Containers[0]
	c.Command, c.Args = []string{"/probe", "--json"}, []string{"--exit", "3"}
	c.SecurityContext = &corev1.SecurityContext{RunAsUser: ptr.To[int64](65534)}
	cmd, netns, err := k.command(pod)
	if err != nil {
		t.Fatal(err)
	}
	if netns != "/run/netns/site-a" || cmd.Path != "/probe" || !slices.Equal(cmd.Args, []string{"/probe", "--json", "--exit", "3"}) ||
		cmd.Dir != "/" || cmd.SysProcAttr.Credential.Uid != 65534 || cmd.SysProcAttr.Pdeathsig == 0 {
		t.Errorf("netns %s, command %+v, attributes %+v", netns, cmd, cmd.SysProcAttr)
	}
}

func TestPrepare(t *testing.T) {
	image, root := t.TempDir(), filepath.Join(t.TempDir(), "rootfs")
	writeFile(t, filepath.Join(image, "probe"), "binary", 0o755)
	writeFile(t, filepath.Join(image, "dev/termination-log"), "from the image", 0o644)
	writeFile(t, filepath.Join(image, "etc/hostname"), "img", 0o644)
	if err := os.Symlink("/probe", filepath.Join(image, "link")); err != nil {
		t.Fatal(err)
	}
	msg, err := prepare(image, root, &corev1.Container{TerminationMessagePath: "/../dev/termination-log"})
	if err != nil {
		t.Fatal(err)
	}
	if msg != filepath.Join(root, "dev/termination-log") {
		t.Errorf("message file %s", msg)
	}
	if info, err := os.Stat(msg); err != nil || info.Size() != 0 || info.Mode().Perm() != 0o666 {
		t.Errorf("message file: %v, %v", info, err)
	}
	if data, _ := os.ReadFile(filepath.Join(image, "dev/termination-log")); string(data) != "from the image" {
		t.Errorf("the image's file changed: %q", data)
	}
	if info, err := os.Stat(filepath.Join(root, "tmp")); err != nil || info.Mode()&os.ModeSticky == 0 || info.Mode().Perm() != 0o777 {
		t.Errorf("tmp: %v, %v", info, err)
	}
	if info, err := os.Stat(filepath.Join(root, "probe")); err != nil || info.Mode().Perm() != 0o755 {
		t.Errorf("probe: %v, %v", info, err)
	}
	if link, err := os.Readlink(filepath.Join(root, "link")); err != nil || link != "/probe" {
		t.Errorf("link: %q, %v", link, err)
	}
	if data, err := os.ReadFile(filepath.Join(root, "etc/hostname")); err != nil || string(data) != "img" {
		t.Errorf("etc/hostname: %q, %v", data, err)
	}
}

func TestReadTail(t *testing.T) {
	f := filepath.Join(t.TempDir(), "log")
	writeFile(t, f, "0123456789", 0o644)
	if got := string(readTail(f, 4)); got != "6789" {
		t.Errorf("last 4 bytes: %q", got)
	}
	if got := string(readTail(f, 40)); got != "0123456789" {
		t.Errorf("whole file: %q", got)
	}
	if got := readTail(f+".missing", 4); got != nil {
		t.Errorf("missing file: %q", got)
	}
}

func writeFile(t *testing.T, name, data string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(name, mode); err != nil {
		t.Fatal(err)
	}
}
