package main

import (
	"flag"
	"fmt"
	"net"
	"strings"

	"hybridctl.dev/test/kube/internal/fakenodes"
	"hybridctl.dev/test/kube/internal/testbed"
)

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

type nodeList []fakenodes.Spec

func (n *nodeList) String() string { return fmt.Sprint(*n) }
func (n *nodeList) Set(v string) error {
	spec, err := fakenodes.ParseSpec(v)
	if err != nil {
		return err
	}
	*n = append(*n, spec)
	return nil
}

type options struct {
	testbed.Config
	logLevel string
}

func parseFlags(args []string) (options, error) {
	var o options
	var listen string
	var sans stringList
	var nodes nodeList
	var execLabel string
	var execNetns stringList
	fs := flag.NewFlagSet("kube-testbed", flag.ContinueOnError)
	fs.StringVar(&o.Dir, "dir", "", "data directory: etcd data, certificates, kubeconfigs (created)")
	fs.StringVar(&listen, "listen", "127.0.0.1", "IP address the apiserver binds")
	fs.IntVar(&o.Port, "port", 6443, "apiserver secure port")
	fs.Var(&sans, "san", "extra DNS name or IP in the apiserver's serving certificate (repeatable)")
	fs.StringVar(&o.Cluster, "cluster", "testbed", "cluster name: the kubeconfig has cluster NAME, user and context admin@NAME")
	fs.Var(&nodes, "node", "fake node NAME[:ROLE], ROLE controlplane or worker (repeatable)")
	fs.StringVar(&o.ServiceCIDR, "service-cidr", "10.96.0.0/12", "service cluster IP range")
	fs.StringVar(&o.PodCIDR, "pod-cidr", "10.244.0.0/16", "pod IP range")
	fs.StringVar(&o.KubeconfigOut, "kubeconfig-out", "", "write the admin kubeconfig here (mode 0600)")
	fs.StringVar(&o.AuditLog, "audit-log", "", "write the apiserver's audit log (level Metadata) here")
	fs.IntVar(&o.KubeletPort, "kubelet-port", 0, "serve the nodes' kubelet API (pod logs from kwok Logs objects) on this port of --listen; 0: none")
	fs.IntVar(&o.EtcdMetricsPort, "etcd-metrics-port", 0, "serve etcd's /metrics on this port of 127.0.0.1; 0: none")
	fs.StringVar(&execLabel, "exec-label", "", "run pods with label KEY=VALUE for real instead of by kwok")
	fs.Var(&execNetns, "exec-netns", "NODE=NETNS: run labelled pods bound to NODE in network namespace NETNS (repeatable)")
	fs.StringVar(&o.Exec.Rootfs, "exec-rootfs", "", "the unpacked root file system labelled pods run in (a copy per pod)")
	fs.StringVar(&o.logLevel, "log-level", "ERROR", "least severe component log messages shown on stderr: INFO, WARNING or ERROR")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if o.Dir == "" {
		return o, fmt.Errorf("--dir is required")
	}
	if o.Listen = net.ParseIP(listen); o.Listen == nil {
		return o, fmt.Errorf("--listen %q: not an IP address", listen)
	}
	o.SANs, o.Nodes = sans, nodes
	return o, parseExec(&o, execLabel, execNetns)
}

func parseExec(o *options, label string, netns []string) error {
	if label == "" {
		if len(netns) > 0 || o.Exec.Rootfs != "" {
			return fmt.Errorf("--exec-netns and --exec-rootfs need --exec-label")
		}
		return nil
	}
	var ok bool
	if o.Exec.LabelKey, o.Exec.LabelValue, ok = strings.Cut(label, "="); !ok || o.Exec.LabelKey == "" {
		return fmt.Errorf("--exec-label %q: want KEY=VALUE", label)
	}
	if o.Exec.Rootfs == "" {
		return fmt.Errorf("--exec-label needs --exec-rootfs")
	}
	o.Exec.NetNS = map[string]string{}
	for _, v := range netns {
		node, ns, _ := strings.Cut(v, "=")
		if node == "" || ns == "" {
			return fmt.Errorf("--exec-netns %q: want NODE=NETNS", v)
		}
		o.Exec.NetNS[node] = ns
	}
	return nil
}
