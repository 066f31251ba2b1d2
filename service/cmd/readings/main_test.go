package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary runs the real main when asked to, so tests can signal a real process.
func TestMain(m *testing.M) {
	if os.Getenv("READINGS_TEST_RUN_MAIN") == "1" {
		os.Exit(run())
	}
	os.Exit(m.Run())
}

func command(t *testing.T, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append([]string{"READINGS_TEST_RUN_MAIN=1", "PATH=" + os.Getenv("PATH")}, env...)
	return cmd
}

func TestBadConfigExits2(t *testing.T) {
	cmd := command(t, "SITE=mars", "DRAIN_DELAY=later")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("exit: %v\n%s", err, out)
	}
	want := "readings: bad configuration:\n  SITE=\"mars\" must be one of aws, onprem\n  DRAIN_DELAY=\"later\" is not a Go duration"
	if !strings.HasPrefix(string(out), want) {
		t.Errorf("output:\n%s\nwant it to start:\n%s", out, want)
	}
}

func TestSIGTERMExits0(t *testing.T) {
	cmd := command(t, "SITE=aws", "NODE_NAME=n1", "LISTEN_ADDR=127.0.0.1:0", "DRAIN_DELAY=100ms")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()
	lines := bufio.NewScanner(stdout)
	addr := ""
	for addr == "" && lines.Scan() {
		var l struct{ Msg, Addr string }
		if json.Unmarshal(lines.Bytes(), &l) == nil && l.Msg == "listening" {
			addr = l.Addr
		}
	}
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	_ = resp.Body.Close()

	_ = cmd.Process.Signal(syscall.SIGTERM)
	rest, _ := io.ReadAll(stdout)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, rest)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not exit")
	}
	if !strings.Contains(string(rest), `"msg":"stopped"`) {
		t.Errorf("logs after SIGTERM:\n%s", rest)
	}
}
