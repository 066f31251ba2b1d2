package probe

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Exit codes.
const (
	ExitOK     = 0 // every target answered 2xx at least once
	ExitFailed = 1 // some target did not
	ExitUsage  = 2 // bad flags
)

// Main runs the probe command: it parses args, probes, prints the JSON document to stdout,
// writes it to the result file, and returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := Parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "probe: %v\n", err)
		return ExitUsage
	}
	report := Run(ctx, cfg)
	doc := report.Encode()
	_, _ = stdout.Write(doc)
	if err := writeResult(cfg.ResultFile, doc); err != nil {
		fmt.Fprintf(stderr, "probe: not written to %s: %v\n", cfg.ResultFile, err)
	}
	if !report.AllOK() {
		return ExitFailed
	}
	return ExitOK
}

// writeResult writes doc to path. The kubelet creates the default file in a container; when
// it does not exist (the probe runs elsewhere) nothing is written and nothing is said. Other
// paths are created.
func writeResult(path string, doc []byte) error {
	if path == "" {
		return nil
	}
	flags := os.O_WRONLY | os.O_TRUNC
	if path != DefaultResultFile {
		flags |= os.O_CREATE
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if errors.Is(err, fs.ErrNotExist) && path == DefaultResultFile {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = f.Write(doc)
	return errors.Join(err, f.Close())
}
