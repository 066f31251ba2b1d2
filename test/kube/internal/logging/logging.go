// Package logging keeps the components' klog output to stderr short.
package logging

import (
	"flag"

	"k8s.io/klog/v2"
)

// Setup prints klog messages of the given severity (INFO, WARNING or ERROR) and above to stderr.
func Setup(threshold string) error {
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	for name, value := range map[string]string{
		"logtostderr": "true",
		// Without this, klog ignores stderrthreshold when logging to stderr only.
		"legacy_stderr_threshold_behavior": "false",
		"stderrthreshold":                  threshold,
	} {
		if err := fs.Set(name, value); err != nil {
			return err
		}
	}
	return nil
}
