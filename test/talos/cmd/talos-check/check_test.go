package main

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	clientconfig "github.com/siderolabs/talos/pkg/machinery/client/config"
	"github.com/siderolabs/talos/pkg/machinery/config"
	"github.com/siderolabs/talos/pkg/machinery/config/encoder"
	"github.com/siderolabs/talos/pkg/machinery/config/generate"
	"github.com/siderolabs/talos/pkg/machinery/config/generate/secrets"
	"github.com/siderolabs/talos/pkg/machinery/config/machine"
	"github.com/siderolabs/talos/pkg/machinery/config/validation"
	"github.com/siderolabs/talos/pkg/machinery/role"

	"hybridctl.dev/test/talos/internal/talosmode"
)

func TestCheckConfig(t *testing.T) {
	bundle, err := secrets.NewBundle(secrets.NewFixedClock(time.Now()), config.TalosVersionCurrent)
	if err != nil {
		t.Fatal(err)
	}

	input, err := generate.NewInput("demo", "https://10.0.0.1:6443", "1.36.3", generate.WithSecretsBundle(bundle), generate.WithInstallDisk("/dev/sda"))
	if err != nil {
		t.Fatal(err)
	}

	cfg, err := input.Config(machine.TypeWorker)
	if err != nil {
		t.Fatal(err)
	}

	good, err := cfg.EncodeBytes(encoder.WithComments(encoder.CommentsDisabled))
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}

		return path
	}

	strict := []validation.Option{validation.WithStrict()}

	if _, err = checkConfig(write("good.yaml", good), talosmode.Metal, strict); err != nil {
		t.Fatal(err)
	}

	unknownKey := write("unknown.yaml", append([]byte("extra: 1\n"), good...))
	if _, err = checkConfig(unknownKey, talosmode.Cloud, strict); err == nil || !strings.Contains(err.Error(), "unknown keys found during decoding") {
		t.Fatalf("unknown key: %v", err)
	}

	noInstall := write("noinstall.yaml", regexp.MustCompile(`(?m)^    install:\n(^        .*\n)+`).ReplaceAll(good, nil))
	if _, err = checkConfig(noInstall, talosmode.Cloud, strict); err != nil {
		t.Fatalf("cloud mode needs no install section: %v", err)
	}

	if _, err = checkConfig(noInstall, talosmode.Metal, strict); err == nil || !strings.Contains(err.Error(), `install instructions are required in "metal" mode`) {
		t.Fatalf("metal without install: %v", err)
	}

	admin, err := bundle.GenerateTalosAPIClientCertificate(role.MakeSet(role.Admin))
	if err != nil {
		t.Fatal(err)
	}

	talosconfig := clientconfig.NewConfig("demo", []string{"10.0.0.1"}, bundle.Certs.OS.Crt, admin)

	summary, err := checkContext(talosconfig.Contexts["demo"])
	if err != nil {
		t.Fatal(err)
	}

	if summary.KeyAlgorithm != "Ed25519" || summary.Organizations[0] != "os:admin" || summary.ExtKeyUsages[0] != "clientAuth" {
		t.Fatalf("summary %+v", summary)
	}

	talosconfig.Contexts["demo"].CA = base64.StdEncoding.EncodeToString(bundle.Certs.K8s.Crt)
	if _, err = checkContext(talosconfig.Contexts["demo"]); err == nil {
		t.Fatal("a certificate not issued by the ca passed")
	}
}
