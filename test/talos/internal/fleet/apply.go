package fleet

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/config"
	"github.com/siderolabs/talos/pkg/machinery/config/configdiff"
	"github.com/siderolabs/talos/pkg/machinery/constants"
	"github.com/siderolabs/talos/pkg/machinery/role"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"hybridctl.dev/test/talos/internal/talosmode"
)

const (
	withReboot    = "Applied configuration with a reboot"
	withoutReboot = "Applied configuration without a reboot"
	staged        = "Staged configuration to be applied after the next reboot"
)

// ApplyConfiguration follows machined's handler (v1alpha1_server.go) step by
// step: the same checks in the same order, the same mode resolution and texts.
// RuntimeValidate is left out: it needs the node's live resources.
//
//nolint:gocyclo,cyclop
func (s *service) ApplyConfiguration(ctx context.Context, in *machine.ApplyConfigurationRequest) (*machine.ApplyConfigurationResponse, error) {
	n := s.n

	n.f.mu.Lock()
	defer n.f.mu.Unlock()

	if n.rebootPending {
		return nil, status.Error(codes.FailedPrecondition, "configuration was already applied and node is rebooting, cannot apply more configuration changes until next reboot")
	}

	inMaintenance := n.cfg == nil || !n.cfg.CompleteForBoot()

	if !inMaintenance && !rolesFrom(ctx).Includes(role.Admin) {
		return nil, errNotAuthorized
	}

	requested := in.GetMode()
	mode := requested.String()
	modeDetails := withReboot
	modeErr := ""

	if requested != machine.ApplyConfigurationRequest_TRY {
		n.cancelTryLocked()
	}

	cfg, err := loadConfig(in.GetData())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}

	if !inMaintenance && cfg.RawV1Alpha1() == nil {
		return nil, status.Error(codes.InvalidArgument, "the applied machine configuration doesn't contain v1alpha1 config, did you mean to patch the machine config instead?")
	}

	warnings, err := cfg.Validate(talosmode.Installed{Mode: n.mode, Done: n.installed})
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}

	resolved := requested
	if inMaintenance && resolved == machine.ApplyConfigurationRequest_REBOOT {
		resolved = machine.ApplyConfigurationRequest_NO_REBOOT
	}

	//nolint:exhaustive
	switch resolved {
	case machine.ApplyConfigurationRequest_TRY, machine.ApplyConfigurationRequest_NO_REBOOT:
		if err = canApplyImmediate(n.cfg, cfg); err != nil && !inMaintenance {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}

		modeDetails = withoutReboot
	case machine.ApplyConfigurationRequest_STAGED:
		modeDetails = staged
	case machine.ApplyConfigurationRequest_AUTO:
		if err = canApplyImmediate(n.cfg, cfg); err != nil && !inMaintenance {
			resolved = machine.ApplyConfigurationRequest_REBOOT
			modeDetails = withReboot
			modeErr = ": " + err.Error()
		} else {
			resolved = machine.ApplyConfigurationRequest_NO_REBOOT
			modeDetails = withoutReboot
		}

		mode = fmt.Sprintf("%s(%s)", mode, resolved)
	}

	if in.GetDryRun() {
		details, err := n.diffLocked(cfg)
		if err != nil {
			return nil, fmt.Errorf("failed to generate diff: %w", err)
		}

		return &machine.ApplyConfigurationResponse{Messages: []*machine.ApplyConfiguration{{
			Mode:        resolved,
			ModeDetails: fmt.Sprintf("Dry run summary:\n%s (skipped in dry-run).\n%s", modeDetails, details),
		}}}, nil
	}

	n.logf("apply config request: mode %s", strings.ToLower(mode))
	n.applyCount++
	n.lastApplyMode = requested.String()

	//nolint:exhaustive
	switch resolved {
	case machine.ApplyConfigurationRequest_TRY:
		timeout := constants.ConfigTryTimeout
		if in.GetTryModeTimeout() != nil {
			timeout = in.GetTryModeTimeout().AsDuration()
		}

		modeDetails += fmt.Sprintf("\nThe config is applied in 'try' mode and will be automatically reverted back in %s", timeout)

		previous, previousCfg := n.cfgBytes, n.cfg
		n.applyNowLocked(in.GetData(), cfg, inMaintenance)

		if !inMaintenance {
			n.revertAfterLocked(previous, previousCfg, timeout)
		}
	case machine.ApplyConfigurationRequest_NO_REBOOT:
		n.applyNowLocked(in.GetData(), cfg, inMaintenance)
	case machine.ApplyConfigurationRequest_STAGED:
		n.staged = in.GetData()
	case machine.ApplyConfigurationRequest_REBOOT:
		n.setConfigLocked(in.GetData(), cfg)
		n.rebootPending = true
		n.rebootLocked()
	default:
		return nil, fmt.Errorf("incorrect mode '%s' specified for the apply config call", resolved)
	}

	return &machine.ApplyConfigurationResponse{Messages: []*machine.ApplyConfiguration{{
		Mode:        resolved,
		Warnings:    warnings,
		ModeDetails: modeDetails + modeErr,
	}}}, nil
}

// diffLocked is generateDiff: the whole new config when there is none yet.
func (n *Node) diffLocked(next config.Provider) (string, error) {
	var current config.Encoder
	if n.cfg != nil {
		current = n.cfg
	}

	diff, err := configdiff.DiffConfigs(current, next)
	if err != nil {
		return "", err
	}

	if diff == "" {
		diff = "No changes."
	}

	return "Config diff:\n\n" + diff, nil
}

// applyNowLocked makes a config active. Leaving maintenance mode takes the
// node down for the reboot delay (install and reboot on metal; apid restarting
// with the new PKI elsewhere); otherwise the node picks up the new PKI and
// network (network.go) live.
func (n *Node) applyNowLocked(data []byte, cfg config.Provider, inMaintenance bool) {
	n.setConfigLocked(data, cfg)

	if inMaintenance && cfg.CompleteForBoot() {
		n.rebootLocked()

		return
	}

	if !inMaintenance {
		if tlsConfig, err := n.apiTLSLocked(); err == nil {
			n.tls.Store(tlsConfig)
		} else {
			n.logf("keeping the API certificate: %v", err)
		}
	}

	n.networkChangedLocked()
}

// revertAfterLocked rolls a 'try' config back unless another apply comes first.
func (n *Node) revertAfterLocked(previous []byte, previousCfg config.Provider, timeout time.Duration) {
	boot := n.boot

	n.tryRevert = time.AfterFunc(timeout, func() {
		n.f.mu.Lock()
		defer n.f.mu.Unlock()

		if n.boot != boot || n.tryRevert == nil {
			return
		}

		n.tryRevert = nil
		n.logf("reverting the config applied in try mode")
		n.applyNowLocked(previous, previousCfg, false)
	})
}

func (n *Node) cancelTryLocked() {
	if n.tryRevert != nil {
		n.tryRevert.Stop()
		n.tryRevert = nil
	}
}
