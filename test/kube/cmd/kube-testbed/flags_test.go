package main

import (
	"maps"
	"testing"
)

func TestParseExecFlags(t *testing.T) {
	o, err := parseFlags([]string{"--dir", "d", "--exec-label", "hybridctl.dev/vpn-probe=true",
		"--exec-netns", "n1=site-a", "--exec-netns", "n2=/proc/1/ns/net", "--exec-rootfs", "/img"})
	if err != nil {
		t.Fatal(err)
	}
	e := o.Exec
	if e.LabelKey != "hybridctl.dev/vpn-probe" || e.LabelValue != "true" || e.Rootfs != "/img" ||
		!maps.Equal(e.NetNS, map[string]string{"n1": "site-a", "n2": "/proc/1/ns/net"}) {
		t.Errorf("exec config %+v", e)
	}
	for _, bad := range [][]string{
		{"--exec-label", "novalue", "--exec-rootfs", "/img"},
		{"--exec-label", "k=v"},
		{"--exec-rootfs", "/img"},
		{"--exec-label", "k=v", "--exec-rootfs", "/img", "--exec-netns", "n1"},
	} {
		if _, err := parseFlags(append([]string{"--dir", "d"}, bad...)); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
