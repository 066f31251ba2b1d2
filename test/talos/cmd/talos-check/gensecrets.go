package main

import (
	"flag"
	"os"
	"time"

	"github.com/siderolabs/talos/pkg/machinery/config"
	"github.com/siderolabs/talos/pkg/machinery/config/generate/secrets"
	"go.yaml.in/yaml/v4"
)

// runGenSecrets writes a secrets bundle as `talosctl gen secrets` does
// (cmd/talosctl/cmd/mgmt/gen/secrets.go), except that it overwrites --out.
func runGenSecrets(args []string) error {
	fs := flag.NewFlagSet("gen-secrets", flag.ContinueOnError)
	out := fs.String("out", "", "where to write secrets.yaml")

	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}

	if *out == "" || len(rest) > 0 {
		return usageError("gen-secrets takes --out FILE only")
	}

	bundle, err := secrets.NewBundle(secrets.NewFixedClock(time.Now()), config.TalosVersionCurrent)
	if err != nil {
		return err
	}

	data, err := yaml.Marshal(bundle)
	if err != nil {
		return err
	}

	return os.WriteFile(*out, data, 0o600)
}
