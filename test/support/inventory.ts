import {
  DescribeAddressesCommand,
  DescribeFlowLogsCommand,
  DescribeInstancesCommand,
  DescribeInternetGatewaysCommand,
  DescribeNatGatewaysCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
  type Filter,
} from '@aws-sdk/client-ec2';
import { AmpClient } from '@aws-sdk/client-amp';
import { IAMClient, ListInstanceProfilesCommand, ListRolesCommand, ListUsersCommand } from '@aws-sdk/client-iam';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { readFileSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import { CA_CERT } from './tls.ts';
import { HARNESS_KEY, type RecordedCall, classify } from './moto.ts';
import { DescribeKeyCommand, KMSClient, ListAliasesCommand, ListKeysCommand, ListResourceTagsCommand } from '@aws-sdk/client-kms';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeRepositoriesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { DescribeLoadBalancersCommand, DescribeTargetGroupsCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { Route53Client } from '@aws-sdk/client-route-53';

/** SDK clients pointed at the emulator, for reading back what the CLI left there; they trust the test CA themselves. */
export function clients(endpoint: string, region = 'eu-central-1', accessKeyId = 'testing') {
  const requestHandler = new NodeHttpHandler({ httpsAgent: new Agent({ ca: readFileSync(CA_CERT), keepAlive: true }) });
  const config = { endpoint, region, credentials: { accessKeyId, secretAccessKey: 'testing' }, requestHandler };
  return {
    ec2: new EC2Client(config),
    iam: new IAMClient(config),
    kms: new KMSClient(config),
    s3: new S3Client({ ...config, forcePathStyle: true }),
    ecr: new ECRClient(config),
    elb: new ElasticLoadBalancingV2Client(config),
    route53: new Route53Client({ ...config, region: 'us-east-1' }),
    amp: new AmpClient(config),
  };
}

export type Clients = ReturnType<typeof clients>;

const tagged = (cluster: string): Filter[] => [{ Name: 'tag:hybridctl.dev/cluster', Values: [cluster] }];

/** Everything in the emulator that carries the cluster's tag (or, for untaggable things, its name). */
export async function inventory(c: Clients, cluster: string) {
  const filters = tagged(cluster);
  const [vpcs, subnets, igws, nats, eips, rts, sgs, roles, profiles, users, aliases, buckets, kmsKeys, repositories, instances, loadBalancers, targetGroups] = await Promise.all([
    c.ec2.send(new DescribeVpcsCommand({ Filters: filters })).then((r) => r.Vpcs ?? []),
    c.ec2.send(new DescribeSubnetsCommand({ Filters: filters })).then((r) => r.Subnets ?? []),
    c.ec2.send(new DescribeInternetGatewaysCommand({ Filters: filters })).then((r) => r.InternetGateways ?? []),
    c.ec2.send(new DescribeNatGatewaysCommand({ Filter: filters })).then((r) => (r.NatGateways ?? []).filter((n) => n.State !== 'deleted')),
    c.ec2.send(new DescribeAddressesCommand({ Filters: filters })).then((r) => r.Addresses ?? []),
    c.ec2.send(new DescribeRouteTablesCommand({ Filters: filters })).then((r) => r.RouteTables ?? []),
    c.ec2.send(new DescribeSecurityGroupsCommand({ Filters: filters })).then((r) => r.SecurityGroups ?? []),
    c.iam.send(new ListRolesCommand({ PathPrefix: `/hybridctl/${cluster}/` })).then((r) => r.Roles ?? []),
    c.iam.send(new ListInstanceProfilesCommand({ PathPrefix: `/hybridctl/${cluster}/` })).then((r) => r.InstanceProfiles ?? []),
    c.iam.send(new ListUsersCommand({ PathPrefix: `/hybridctl/${cluster}/` })).then((r) => r.Users ?? []),
    c.kms.send(new ListAliasesCommand({})).then((r) => (r.Aliases ?? []).filter((a) => a.AliasName === `alias/hybridctl-${cluster}`)),
    c.s3.send(new ListBucketsCommand({})).then((r) => (r.Buckets ?? []).filter((b) => new RegExp(`^hctl-${cluster}-[a-z]+-\\d{12}-`).test(b.Name ?? ''))),
    liveTaggedKeys(c.kms, cluster),
    c.ecr.send(new DescribeRepositoriesCommand({})).then((r) => (r.repositories ?? []).filter((x) => x.repositoryName?.startsWith(`hybridctl/${cluster}/`))),
    c.ec2
      .send(new DescribeInstancesCommand({ Filters: [...filters, { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] }] }))
      .then((r) => (r.Reservations ?? []).flatMap((x) => x.Instances ?? [])),
    c.elb.send(new DescribeLoadBalancersCommand({})).then((r) => (r.LoadBalancers ?? []).filter((lb) => lb.LoadBalancerName?.startsWith(`${cluster}-`))),
    c.elb.send(new DescribeTargetGroupsCommand({})).then((r) => (r.TargetGroups ?? []).filter((g) => g.TargetGroupName?.startsWith(`${cluster}-`))),
  ]);
  return { vpcs, subnets, igws, nats, eips, rts, sgs, roles, profiles, users, aliases, buckets, kmsKeys, repositories, instances, loadBalancers, targetGroups };
}

export type Inventory = Awaited<ReturnType<typeof inventory>>;

export const NOTHING = { vpcs: 0, subnets: 0, igws: 0, nats: 0, eips: 0, rts: 0, sgs: 0, roles: 0, profiles: 0, users: 0, aliases: 0, buckets: 0, kmsKeys: 0, repositories: 0, instances: 0, loadBalancers: 0, targetGroups: 0 };

export function counts(inv: Inventory): Record<keyof Inventory, number> {
  return Object.fromEntries(Object.entries(inv).map(([k, v]) => [k, v.length])) as Record<keyof Inventory, number>;
}

/** KMS keys tagged for the cluster that are not scheduled for deletion. */
async function liveTaggedKeys(kms: KMSClient, cluster: string) {
  const keys = (await kms.send(new ListKeysCommand({}))).Keys ?? [];
  const described = await Promise.all(
    keys.map(async (k) => {
      const [meta, tags] = await Promise.all([kms.send(new DescribeKeyCommand({ KeyId: k.KeyId })), kms.send(new ListResourceTagsCommand({ KeyId: k.KeyId }))]);
      return { meta: meta.KeyMetadata, tags: tags.Tags ?? [] };
    }),
  );
  return described.filter((d) => d.meta?.KeyState !== 'PendingDeletion' && d.tags.some((t) => t.TagKey === 'hybridctl.dev/cluster' && t.TagValue === cluster));
}

type Tagged = { Tags?: { Key?: string; Value?: string }[] };

export function componentOf(resource: Tagged): string | undefined {
  return resource.Tags?.find((t) => t.Key === 'hybridctl.dev/component')?.Value;
}

/** Resources keyed by their logical id (the component tag). */
export function byComponent<T extends Tagged>(resources: T[]): Record<string, T> {
  return Object.fromEntries(resources.map((r) => [componentOf(r) ?? '', r]));
}

/** The cluster's VPC flow logs (tagged like every EC2 resource). */
export async function flowLogs(c: Clients, cluster: string) {
  return (await c.ec2.send(new DescribeFlowLogsCommand({ Filter: tagged(cluster) }))).FlowLogs ?? [];
}

/** One request moto recorded, in the order it came, named as `moto.calls()` names it, with its path and body. */
export interface RecordedRequest extends RecordedCall {
  method: string;
  path: string;
  /** The query string's parameter names (S3 sub-resources such as `logging`). */
  query: string[];
  body: string;
}

/**
 * What the CLI sent since `moto.record()`, in order, with paths and bodies (which bucket, which
 * parameters), from moto's own recorder API. The harness's own requests are left out.
 */
export async function recordedRequests(endpoint: string): Promise<RecordedRequest[]> {
  const text = await new Promise<string>((resolve, reject) => {
    const req = httpsRequest(`${endpoint}/moto-api/recorder/download-recording`, { method: 'GET', ca: readFileSync(CA_CERT) }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
  return text
    .split('\n')
    .filter(Boolean)
    .flatMap(jsonObjects)
    .map((line) => JSON.parse(line) as Parameters<typeof classify>[0])
    .filter((entry) => !new RegExp(`Credential=${HARNESS_KEY}/`).test(Object.entries(entry.headers).find(([k]) => k.toLowerCase() === 'authorization')?.[1] ?? ''))
    .map((entry) => ({
      ...classify(entry),
      method: entry.method,
      path: new URL(entry.url, 'http://x').pathname,
      query: [...new URL(entry.url, 'http://x').searchParams.keys()],
      body: entry.body_encoded ? Buffer.from(entry.body ?? '', 'base64').toString('utf8') : (entry.body ?? ''),
    }));
}

/**
 * The JSON objects on one line of moto's recording. moto appends each entry and its newline in two
 * writes, so entries of concurrent requests can share a line (`{…}{…}`); they are split here at
 * the top-level boundaries (braces inside strings do not count).
 */
function jsonObjects(line: string): string[] {
  const objects: string[] = [];
  let depth = 0;
  let start = 0;
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') {
      if (depth === 0) start = i;
      depth++;
    } else if (c === '}' && --depth === 0) objects.push(line.slice(start, i + 1));
  }
  return objects;
}
