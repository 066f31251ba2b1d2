// Package controlplane runs kube-apiserver, kube-controller-manager and kube-scheduler
// in this process from their upstream option types, configured with their usual
// command-line flags.
package controlplane

import (
	"fmt"

	"github.com/spf13/pflag"
	cliflag "k8s.io/component-base/cli/flag"
)

// parseFlags applies component flags (like "--secure-port=0") to the options behind nfs.
func parseFlags(component string, nfs cliflag.NamedFlagSets, args []string) error {
	fs := pflag.NewFlagSet(component, pflag.ContinueOnError)
	for _, f := range nfs.FlagSets {
		fs.AddFlagSet(f)
	}
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%s flags: %w", component, err)
	}
	return nil
}
