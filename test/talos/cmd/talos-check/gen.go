package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/siderolabs/talos/pkg/machinery/config/encoder"
	"github.com/siderolabs/talos/pkg/machinery/config/generate"
	"github.com/siderolabs/talos/pkg/machinery/config/generate/secrets"
	"github.com/siderolabs/talos/pkg/machinery/config/machine"
	"github.com/siderolabs/talos/pkg/machinery/constants"
	"github.com/siderolabs/talos/pkg/machinery/gendata"
	"github.com/siderolabs/talos/pkg/machinery/version"

	"hybridctl.dev/test/talos/internal/talosmode"
)

// runGen generates a reference config like `talosctl gen config --with-docs=false
// --with-examples=false`, then validates it in --mode.
func runGen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	modeFlag := fs.String("mode", "", "runtime mode the config is validated for: cloud or metal")
	roleFlag := fs.String("role", "", "controlplane or worker")
	secretsFile := fs.String("secrets", "", "secrets bundle (talosctl gen secrets)")
	endpoint := fs.String("endpoint", "", "Kubernetes API endpoint, e.g. https://10.0.0.10:6443")
	name := fs.String("name", "", "cluster name")
	out := fs.String("out", "", "where to write the machine config")

	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}

	if len(rest) > 0 {
		return usageError("unexpected arguments: %v", rest)
	}

	mode, err := talosmode.Parse(*modeFlag)
	if err != nil || mode == talosmode.Container {
		return usageError("--mode must be cloud or metal")
	}

	roles := map[string]machine.Type{"controlplane": machine.TypeControlPlane, "worker": machine.TypeWorker}

	machineType, ok := roles[*roleFlag]
	if !ok {
		return usageError("--role must be controlplane or worker")
	}

	if *secretsFile == "" || *endpoint == "" || *name == "" || *out == "" {
		return usageError("--secrets, --endpoint, --name and --out are required")
	}

	bundle, err := secrets.LoadBundle(*secretsFile)
	if err != nil {
		return fmt.Errorf("%s: %w", *secretsFile, err)
	}

	if err = bundle.Validate(); err != nil {
		return fmt.Errorf("%s: %w", *secretsFile, err)
	}

	input, err := generate.NewInput(*name, *endpoint, constants.DefaultKubernetesVersion,
		generate.WithSecretsBundle(bundle),
		// talosctl gen config's defaults for --install-disk and --install-image
		generate.WithInstallDisk("/dev/sda"),
		generate.WithInstallImage(fmt.Sprintf("%s/%s/installer:%s", gendata.ImagesRegistry, gendata.ImagesUsername, version.Tag)),
	)
	if err != nil {
		return err
	}

	cfg, err := input.Config(machineType)
	if err != nil {
		return err
	}

	warnings, err := cfg.Validate(mode)
	for _, warning := range warnings {
		fmt.Fprintf(os.Stderr, "warning: %s\n", warning)
	}

	if err != nil {
		return fmt.Errorf("generated config does not validate in %s mode: %w", mode, err)
	}

	data, err := cfg.EncodeBytes(encoder.WithComments(encoder.CommentsDisabled))
	if err != nil {
		return err
	}

	return os.WriteFile(*out, data, 0o600)
}
