import { z } from 'zod';
import { isIpv4, isIpv4Cidr } from '../net/cidr.ts';

export const API_VERSION = 'hybridctl.dev/v1alpha1';
export const KIND = 'HybridCluster';
/** The default tunnel range: two addresses, one per gateway, outside every default site range. */
export const VPN_TUNNEL_CIDR = '10.255.255.252/30';

const cidr = z
  .string()
  .refine(isIpv4Cidr, { message: 'is not a CIDR (expected an IPv4 network like 10.40.0.0/16)' });
const ipv4 = z.string().refine(isIpv4, { message: 'is not an IPv4 address (expected like 192.168.10.11)' });
const instanceType = z
  .string()
  .regex(/^[a-z][a-z0-9-]*\.[a-z0-9-]+$/, { message: 'is not an EC2 instance type (expected like t3.medium)' });
const diskGiB = z.int().min(10).max(16384);

const nodeGroup = (minCount: number) =>
  z.strictObject({
    count: z.int().min(minCount).max(50),
    instanceType,
    diskGiB: diskGiB.default(20),
  });

const zoneName = z
  .string()
  .regex(/^[a-z]{2}(-[a-z]+)+-\d+[a-z]$/, { message: 'is not an availability zone name (expected like eu-central-1a)' });

const tagKey = z
  .string()
  .min(1)
  .max(128)
  .refine((k) => !k.startsWith('aws:') && !k.startsWith('hybridctl.dev/') && k !== 'Name', {
    message: 'is reserved (keys starting with aws: or hybridctl.dev/, and Name, are set by hybridctl)',
  });

const siteNetwork = (podSubnet: string, serviceSubnet: string) =>
  z
    .strictObject({
      podSubnet: cidr.default(podSubnet),
      serviceSubnet: cidr.default(serviceSubnet),
    })
    .default({ podSubnet, serviceSubnet });

const onpremNode = z.strictObject({
  address: ipv4,
  role: z.enum(['controlplane', 'worker']),
  installDisk: z
    .string()
    .regex(/^\/dev\/[A-Za-z0-9/_-]+$/, { message: 'is not a disk device path (expected like /dev/sda)' }),
  hostname: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, { message: 'is not a valid hostname (lowercase letters, digits, -)' })
    .optional(),
  /** The maintenance-mode certificate's key fingerprint, as the node's console shows it: pins the first contact. */
  fingerprint: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, { message: 'is not a Talos certificate fingerprint (base64 SHA-256, 44 characters)' }).optional(),
});

const patch = z.strictObject({
  file: z.string().min(1),
  site: z.enum(['aws', 'onprem']).optional(),
  role: z.enum(['controlplane', 'worker']).optional(),
});

const imageRef = z.strictObject({
  /** `ecr` (a repository hybridctl creates in the cluster's account) or a registry's https URL. */
  registry: z.union([z.literal('ecr'), z.url({ protocol: /^https$/, error: 'is not ecr or an https registry URL' })]).default('ecr'),
  repository: z.string().regex(/^[a-z0-9]+([._/-][a-z0-9]+)*$/, { message: 'is not a repository path (lowercase letters, digits, . _ - /)' }).default('readings'),
  /** The readable tag; the image is also tagged by its content digest, and deployed by digest. */
  tag: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, { message: 'is not an image tag' }).optional(),
  platforms: z.array(z.enum(['linux/amd64', 'linux/arm64'])).min(1).default(['linux/amd64', 'linux/arm64']),
  /** Environment variables holding the registry user name and password (not for ecr). */
  credentials: z.strictObject({ usernameEnv: z.string().min(1), passwordEnv: z.string().min(1) }).optional(),
});

const serviceSection = z.strictObject({
  /** Deploy the sample service with `up` (false: clusters only). */
  enabled: z.boolean().default(true),
  activeSite: z.enum(['aws', 'onprem']).default('aws'),
  replicas: z.int().min(1).max(100).default(2),
  standbyReplicas: z.int().min(0).max(100).default(1),
  nodePort: z.int().min(30000).max(32767).default(30080),
  /** How long `up` waits for a Deployment to roll out before it names the stuck pods. */
  rolloutSeconds: z.int().min(10).max(3600).default(300),
  image: imageRef.default({ registry: 'ecr', repository: 'readings', platforms: ['linux/amd64', 'linux/arm64'] }),
  loadgen: z
    .strictObject({ enabled: z.boolean().default(true), rate: z.int().min(0).max(100000).default(20) })
    .default({ enabled: true, rate: 20 }),
});

const port = z.int().min(1).max(65535);

/** The service's public entry: a listener on the AWS load balancer, and optionally Route 53 failover records. */
const trafficSection = z.strictObject({
  /** Build the entry with `up` (it needs the service and the VPN). */
  enabled: z.boolean().default(true),
  /** The load balancer's public port for the service (TCP). */
  port: port.default(80),
  /** How long the old site's connections may drain after a switch (the target groups' deregistration delay). */
  drainSeconds: z.int().min(0).max(3600).default(30),
  healthCheck: z
    .strictObject({
      path: z.string().regex(/^\/[A-Za-z0-9._~\/-]*$/, { message: 'is not an HTTP path (expected like /readyz)' }).default('/readyz'),
      intervalSeconds: z.int().min(5).max(300).default(10),
      healthyThreshold: z.int().min(2).max(10).default(2),
      unhealthyThreshold: z.int().min(2).max(10).default(2),
    })
    .default({ path: '/readyz', intervalSeconds: 10, healthyThreshold: 2, unhealthyThreshold: 2 }),
  /** Route 53 failover records: the active site's entry PRIMARY, the other SECONDARY, each health-checked. */
  dns: z
    .strictObject({
      hostedZoneId: z.string().regex(/^[A-Z0-9]{1,32}$/, { message: 'is not a Route 53 hosted zone id (expected like Z0123456789ABCDEFGHIJ)' }),
      name: z
        .string()
        .regex(/^(?=.{1,253}\.?$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\.?$/, { message: 'is not a DNS name (expected like readings.example.com)' }),
      ttl: z.int().min(0).max(86400).default(60),
    })
    .optional(),
});

/** Prometheus on each site, and the shipper that writes metrics, logs and states into the telemetry bucket. */
const monitoringSection = z.strictObject({
  /** Build monitoring with `up` (false: no Prometheus, no shipper). */
  enabled: z.boolean().default(true),
  /** How long each site's Prometheus keeps samples (Prometheus duration, like 15d or 12h). */
  retention: z.string().regex(/^\d+[smhdwy]$/, { message: 'is not a Prometheus duration (expected like 15d)' }).default('15d'),
  /** Keep Prometheus's data on a volume of this storage class (Talos has none by default: then the data lives with the pod). */
  storage: z
    .strictObject({
      storageClass: z.string().regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, { message: 'is not a storage class name (expected like gp3 or local-path)' }),
      sizeGiB: z.int().min(1).max(16384).default(20),
    })
    .optional(),
  /** The data lake's shipper: one per site, writing a window of telemetry every intervalMinutes. */
  shipper: z
    .strictObject({
      enabled: z.boolean().default(true),
      // Windows never straddle an hour, so each lands whole in its dt/hour partition.
      intervalMinutes: z
        .int()
        .min(1)
        .max(60)
        .refine((n) => 60 % n === 0, { message: 'must divide an hour (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60)' })
        .default(5),
    })
    .default({ enabled: true, intervalMinutes: 5 }),
  /** Remote-write both sites into an Amazon Managed Service for Prometheus workspace (else into the AWS site's Prometheus). */
  managedPrometheus: z.boolean().default(false),
  /**
   * Where the dashboards live: an Amazon Managed Grafana workspace, Grafana in the active site's
   * cluster, or none. Unset: managed when the account allows it (a region that has the service and,
   * with identity-center sign-in, an IAM Identity Center instance), else incluster, with a note.
   */
  grafana: z.enum(['managed', 'incluster', 'none']).optional(),
  /** How people sign in to the managed workspace: IAM Identity Center, or a SAML identity provider set up on the workspace. */
  grafanaSignIn: z.enum(['identity-center', 'saml']).default('identity-center'),
});

export const configSchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal(KIND),
  metadata: z.strictObject({
    name: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,18}[a-z0-9])?$/, {
      message: 'is not a valid cluster name (1-20 characters: lowercase letters, digits and -, not starting or ending with -)',
    }),
  }),
  aws: z.strictObject({
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, { message: 'is not an AWS region (expected like eu-central-1)' }),
    availabilityZones: z.union([z.int().min(1).max(3), z.array(zoneName).min(1).max(3)]).default(2),
    vpc: z.strictObject({ cidr }),
    natGateways: z.enum(['single', 'perAz', 'none']).default('single'),
    adminCidrs: z.array(cidr).min(1),
    allowPublicAdmin: z.boolean().default(false),
    /** Use this AMI instead of Sidero Labs' official Talos image for talos.version. */
    talosAmi: z.string().regex(/^ami-[0-9a-f]{8,17}$/, { message: 'is not an AMI id (expected like ami-0123456789abcdef0)' }).optional(),
    controlPlane: nodeGroup(1),
    workers: nodeGroup(0).default({ count: 0, instanceType: 't3.large', diskGiB: 20 }),
    tags: z.record(tagKey, z.string().max(256)).default({}),
    telemetryBucket: z
      .strictObject({
        infrequentAccessAfterDays: z.int().min(30).default(30),
        expireAfterDays: z.int().min(1).default(365),
      })
      .default({ infrequentAccessAfterDays: 30, expireAfterDays: 365 }),
  }),
  onprem: z.strictObject({
    cidr,
    publicEndpoint: ipv4,
    controlPlaneEndpoint: z.url({ protocol: /^https$/, error: 'is not an https URL (expected like https://192.168.10.10:6443)' }),
    nodes: z.array(onpremNode).min(1),
    /** The site's own public entry for the service: where the user's edge forwards to a worker's NodePort (Route 53's secondary path). */
    ingress: z.strictObject({ address: ipv4, port: port.default(80) }).optional(),
  }),
  talos: z.strictObject({
    version: z.string().regex(/^v\d+\.\d+\.\d+$/, { message: 'is not a Talos version (expected like v1.13.9)' }),
    kubernetesVersion: z.string().regex(/^\d+\.\d+\.\d+$/, { message: 'is not a Kubernetes version (expected like 1.36.3)' }).optional(),
    patches: z.array(patch).default([]),
    secretsFiles: z.strictObject({ aws: z.string().min(1).optional(), onprem: z.string().min(1).optional() }).default({}),
    timeouts: z
      .strictObject({
        /** How long a node that does not answer gets before `up` gives up on it. */
        reachSeconds: z.int().min(1).max(3600).default(60),
        /** From applying a config to the node answering configured (install, reboot). */
        installSeconds: z.int().min(10).max(7200).default(900),
        /** From bootstrap to a healthy control plane. */
        healthSeconds: z.int().min(10).max(7200).default(900),
      })
      .default({ reachSeconds: 60, installSeconds: 900, healthSeconds: 900 }),
  }),
  kubernetes: z
    .strictObject({
      aws: siteNetwork('10.244.0.0/16', '10.96.0.0/12'),
      onprem: siteNetwork('10.245.0.0/16', '10.112.0.0/12'),
    })
    .default({
      aws: { podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/12' },
      onprem: { podSubnet: '10.245.0.0/16', serviceSubnet: '10.112.0.0/12' },
    }),
  service: serviceSection.default({
    enabled: true,
    activeSite: 'aws',
    replicas: 2,
    standbyReplicas: 1,
    nodePort: 30080,
    rolloutSeconds: 300,
    image: { registry: 'ecr', repository: 'readings', platforms: ['linux/amd64', 'linux/arm64'] },
    loadgen: { enabled: true, rate: 20 },
  }),
  traffic: trafficSection.default({
    enabled: true,
    port: 80,
    drainSeconds: 30,
    healthCheck: { path: '/readyz', intervalSeconds: 10, healthyThreshold: 2, unhealthyThreshold: 2 },
  }),
  vpn: z
    .strictObject({
      /** Join the sites with the site-to-site VPN (false: two clusters that cannot reach each other). */
      enabled: z.boolean().default(true),
      type: z.literal('wireguard').default('wireguard'),
      port: z.int().min(1).max(65535).default(51820),
      /** The on-prem node that runs the VPN (one of onprem.nodes); required while the VPN is enabled. */
      onpremGateway: ipv4.optional(),
      awsGateway: z
        .strictObject({ instanceType: instanceType.default('t3.small'), diskGiB: diskGiB.default(20) })
        .default({ instanceType: 't3.small', diskGiB: 20 }),
      /** The tunnel's own addresses: the AWS gateway takes the first host, the on-prem gateway the second. */
      tunnelCidr: cidr.default(VPN_TUNNEL_CIDR),
    })
    .default({ enabled: true, type: 'wireguard', port: 51820, awsGateway: { instanceType: 't3.small', diskGiB: 20 }, tunnelCidr: VPN_TUNNEL_CIDR }),
  monitoring: monitoringSection.default({ enabled: true, retention: '15d', shipper: { enabled: true, intervalMinutes: 5 }, managedPrometheus: false, grafanaSignIn: 'identity-center' }),
});

export type HybridConfig = z.output<typeof configSchema>;
export type SiteName = 'aws' | 'onprem';
export const SITES: readonly SiteName[] = ['aws', 'onprem'];
