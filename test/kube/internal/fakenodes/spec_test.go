package fakenodes

import "testing"

func TestParseSpec(t *testing.T) {
	for in, want := range map[string]Spec{
		"talos-10-40-0-5":        {Name: "talos-10-40-0-5", Role: Worker},
		"talos-10-40-0-5:worker": {Name: "talos-10-40-0-5", Role: Worker},
		"cp-1:controlplane":      {Name: "cp-1", Role: ControlPlane},
		"cp-1:control-plane":     {Name: "cp-1", Role: ControlPlane},
	} {
		got, err := ParseSpec(in)
		if err != nil || got != want {
			t.Errorf("ParseSpec(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", ":worker", "cp-1:master"} {
		if _, err := ParseSpec(bad); err == nil {
			t.Errorf("ParseSpec(%q) accepted", bad)
		}
	}
}

func TestAddressFromName(t *testing.T) {
	if got := addressFromName("talos-10-40-0-5"); got.String() != "10.40.0.5" {
		t.Errorf("talos-10-40-0-5 gave %v", got)
	}
	for _, name := range []string{"cp-1", "talos-abc", "talos-10-40-0"} {
		if got := addressFromName(name); got != nil {
			t.Errorf("%s gave %v, want none", name, got)
		}
	}
}
