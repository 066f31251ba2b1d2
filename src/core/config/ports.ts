/**
 * Ports Talos and Kubernetes listen on in hybridctl's clusters (the VPN's UDP port must not take
 * one), from Talos's constants (apid, trustd, KubePrism) and Kubernetes' defaults.
 */
export const RESERVED_PORTS: Readonly<Record<number, string>> = {
  2379: 'etcd (clients)',
  2380: 'etcd (peers)',
  2381: 'etcd metrics',
  6443: 'the Kubernetes API',
  7445: 'KubePrism',
  10249: 'kube-proxy metrics',
  10250: 'the kubelet',
  10256: 'kube-proxy health checks',
  10257: 'kube-controller-manager',
  10259: 'kube-scheduler',
  50000: 'the Talos API (apid)',
  50001: 'trustd',
};

/** kube-proxy owns this range on every node, for every protocol. */
export const NODE_PORT_RANGE = { min: 30000, max: 32767 } as const;
