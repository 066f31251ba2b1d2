package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/siderolabs/talos/pkg/machinery/config/configloader"
	"github.com/siderolabs/talos/pkg/machinery/config/validation"

	"hybridctl.dev/test/talos/internal/talosmode"
)

func runConfig(args []string) error {
	fs := flag.NewFlagSet("config", flag.ContinueOnError)
	modeFlag := fs.String("mode", "", "runtime mode: cloud, metal or container")
	strict := fs.Bool("strict", true, "treat Talos warnings as errors (validation.WithStrict)")

	files, err := parseArgs(fs, args)
	if err != nil {
		return err
	}

	mode, err := talosmode.Parse(*modeFlag)
	if err != nil {
		return usageError("%s", err)
	}

	if len(files) == 0 {
		return usageError("no config file given")
	}

	var opts []validation.Option
	if *strict {
		opts = append(opts, validation.WithStrict())
	}

	failed := false

	for _, file := range files {
		warnings, err := checkConfig(file, mode, opts)

		for _, warning := range warnings {
			fmt.Fprintf(os.Stderr, "warning: %s: %s\n", file, warning)
		}

		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %s\n", file, err)

			failed = true

			continue
		}

		fmt.Printf("ok %s\n", file)
	}

	if failed {
		return errReported
	}

	return nil
}

// checkConfig loads like machined does (the decoder rejects unknown keys), then validates.
func checkConfig(file string, mode talosmode.Mode, opts []validation.Option) ([]string, error) {
	cfg, err := configloader.NewFromFile(file)
	if err != nil {
		return nil, err
	}

	return cfg.Validate(mode, opts...)
}
