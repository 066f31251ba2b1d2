package testbed

// The components' command-line flags; see each component's --help upstream.

func apiserverArgs(c Config, p paths, etcdURL string) []string {
	args := []string{
		"--bind-address=" + c.Listen.String(),
		"--secure-port=" + itoa(c.Port),
		"--advertise-address=" + c.Listen.String(),
		// The apiserver's own Endpoints would carry the advertise address, and the
		// API rejects loopback addresses there; nothing in the testbed needs them.
		"--endpoint-reconciler-type=none",
		"--etcd-servers=" + etcdURL,
		"--cert-dir=" + p.certDir,
		"--tls-cert-file=" + p.serving,
		"--tls-private-key-file=" + p.servingKey,
		"--client-ca-file=" + p.ca,
		"--authorization-mode=Node,RBAC",
		"--allow-privileged=true",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + p.saPub,
		"--service-account-signing-key-file=" + p.saKey,
		"--service-cluster-ip-range=" + c.ServiceCIDR,
		"--profiling=false",
		// Kubelets are reached at their InternalIP (a node's Hostname address is only its name)
		// and must show a serving certificate of the test bed's CA, as kubeadm sets it up.
		"--kubelet-preferred-address-types=InternalIP",
		"--kubelet-certificate-authority=" + p.ca,
		"--kubelet-client-certificate=" + p.kubeletClient,
		"--kubelet-client-key=" + p.kubeletClientKey,
	}
	if c.AuditLog != "" {
		args = append(args, "--audit-policy-file="+p.auditPolicy, "--audit-log-path="+c.AuditLog)
	}
	return args
}

func controllerManagerArgs(c Config, p paths) []string {
	return []string{
		"--kubeconfig=" + p.controllerManager,
		// No HTTPS endpoint: several testbeds share the host, and nothing scrapes it.
		"--secure-port=0",
		"--leader-elect=false",
		"--use-service-account-credentials=true",
		"--service-account-private-key-file=" + p.saKey,
		"--root-ca-file=" + p.ca,
		"--cluster-signing-cert-file=" + p.ca,
		"--cluster-signing-key-file=" + p.caKey,
		"--cluster-name=" + c.Cluster,
		"--allocate-node-cidrs=true",
		"--cluster-cidr=" + c.PodCIDR,
		"--service-cluster-ip-range=" + c.ServiceCIDR,
		"--profiling=false",
	}
}

func schedulerArgs(p paths) []string {
	return []string{
		"--kubeconfig=" + p.scheduler,
		"--secure-port=0",
		"--leader-elect=false",
		"--profiling=false",
	}
}
