package fleet

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/siderolabs/talos/pkg/machinery/config"
	"github.com/siderolabs/talos/pkg/machinery/config/configdiff"
	"github.com/siderolabs/talos/pkg/machinery/config/container"
)

// canApplyImmediate is Runtime.CanApplyImmediate
// (internal/app/machined/pkg/runtime/v1alpha1/v1alpha1_runtime.go): a change
// applies without a reboot when the v1alpha1 document differs only in the
// sections machined reloads live.
func canApplyImmediate(current, next config.Provider) error {
	if current == nil {
		return errors.New("no current config")
	}

	cur := current.RawV1Alpha1()
	if cur == nil {
		return errors.New("current config is not v1alpha1")
	}

	if next.RawV1Alpha1() == nil {
		return errors.New("new config is not v1alpha1")
	}

	masked := next.RawV1Alpha1().DeepCopy()
	masked.ConfigDebug = cur.ConfigDebug
	masked.ClusterConfig = cur.ClusterConfig

	if m, c := masked.MachineConfig, cur.MachineConfig; m != nil && c != nil {
		m.MachineCA = c.MachineCA
		m.MachineAcceptedCAs = c.MachineAcceptedCAs
		m.MachineTime = c.MachineTime //nolint:staticcheck
		m.MachineCertSANs = c.MachineCertSANs
		m.MachineInstall = c.MachineInstall
		m.MachineNetwork = c.MachineNetwork //nolint:staticcheck
		m.MachineSysfs = c.MachineSysfs
		m.MachineSysctls = c.MachineSysctls
		m.MachineLogging = c.MachineLogging
		m.MachineControlPlane = c.MachineControlPlane
		m.MachineKubelet = c.MachineKubelet
		m.MachineKernel = c.MachineKernel
		m.MachineRegistries = c.MachineRegistries //nolint:staticcheck
		m.MachinePods = c.MachinePods
		m.MachineSeccompProfiles = c.MachineSeccompProfiles
		m.MachineNodeAnnotations = c.MachineNodeAnnotations
		m.MachineNodeLabels = c.MachineNodeLabels
		m.MachineNodeTaints = c.MachineNodeTaints

		if mf, cf := m.MachineFeatures, c.MachineFeatures; mf != nil && cf != nil {
			mf.KubernetesTalosAPIAccessConfig = cf.KubernetesTalosAPIAccessConfig
			mf.KubePrismSupport = cf.KubePrismSupport
			mf.HostDNSSupport = cf.HostDNSSupport
			mf.ImageCacheSupport = cf.ImageCacheSupport
			mf.FeatureNodeAddressSortAlgorithm = cf.FeatureNodeAddressSortAlgorithm
		}
	}

	if reflect.DeepEqual(cur, masked) {
		return nil
	}

	diff, err := configdiff.DiffConfigs(container.NewV1Alpha1(cur), container.NewV1Alpha1(masked))
	if err != nil {
		return fmt.Errorf("error calculating diff: %w", err)
	}

	return fmt.Errorf("this config change can't be applied in immediate mode\ndiff:\n%s", diff)
}
