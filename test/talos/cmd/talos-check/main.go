// Command talos-check checks artifacts with Talos's own loaders and validators
// (github.com/siderolabs/talos/pkg/machinery) and prints Talos's messages.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
)

const usage = `usage:
  talos-check config --mode cloud|metal|container [--strict=false] FILE...
  talos-check secrets FILE
  talos-check talosconfig FILE
  talos-check gen-secrets --out FILE
  talos-check gen --mode cloud|metal --role controlplane|worker --secrets FILE --endpoint URL --name NAME --out FILE
`

// errReported means the command already printed why it failed.
var errReported = errors.New("reported")

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}

	commands := map[string]func([]string) error{
		"config":      runConfig,
		"secrets":     runSecrets,
		"talosconfig": runTalosconfig,
		"gen":         runGen,
		"gen-secrets": runGenSecrets,
	}

	run, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}

	err := run(os.Args[2:])

	switch {
	case err == nil:
	case errors.Is(err, errReported):
		os.Exit(1)
	case errors.Is(err, flag.ErrHelp), errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

// parseArgs parses flags wherever they appear among the positional arguments.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string

	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}

		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}

		positional = append(positional, args[0])
		args = args[1:]
	}
}

func usageError(format string, args ...any) error {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	fmt.Fprint(os.Stderr, usage)

	return errUsage
}
