// Package talosmode implements Talos's runtime modes (metal, cloud, container)
// as machinery's validation.RuntimeMode, the way machined does.
package talosmode

import (
	"fmt"

	"github.com/siderolabs/talos/pkg/machinery/config/validation"
)

// Mode is a Talos runtime mode.
type Mode string

// The runtime modes hybridctl deals with.
const (
	Metal     Mode = "metal"
	Cloud     Mode = "cloud"
	Container Mode = "container"
)

var _ validation.RuntimeMode = Mode("")

// Parse accepts metal, cloud or container.
func Parse(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Metal, Cloud, Container:
		return m, nil
	default:
		return "", fmt.Errorf("unknown runtime mode %q (want metal, cloud or container)", s)
	}
}

func (m Mode) String() string { return string(m) }

// RequiresInstall is true for metal only.
func (m Mode) RequiresInstall() bool { return m == Metal }

// InContainer is true for container only.
func (m Mode) InContainer() bool { return m == Container }

// Installed is machined's view of a node: once Talos is on disk (or always, in a
// container) the install section is no longer required.
type Installed struct {
	Mode
	Done bool
}

// RequiresInstall is false once Talos is installed.
func (i Installed) RequiresInstall() bool { return i.Mode.RequiresInstall() && !i.Done }
