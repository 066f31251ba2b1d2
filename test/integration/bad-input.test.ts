import { execFileSync } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsEnv, runCli, startCli, writeConfig } from '../support/cli.ts';
import { exampleWith } from '../support/config.ts';
import { type Moto, startMoto } from '../support/moto.ts';

let moto: Moto;
let env: Record<string, string | undefined>;

beforeAll(async () => {
  moto = await startMoto();
  env = awsEnv(moto.endpoint);
});
afterAll(async () => moto?.stop());

/** `up -c file` exits 2 within seconds (no hang, no blow-up), says `message`, and calls no AWS API. */
async function refusedQuickly(file: string, message: string): Promise<void> {
  await moto.record();
  const started = Date.now();
  const result = await startCli(['up', '-c', file], env, { timeout: 30_000 });
  expect(result.timedOut).toBe(false);
  expect(Date.now() - started).toBeLessThan(15_000);
  expect(result.exitCode).toBe(2);
  expect(String(result.stderr)).toContain(message);
  expect(await moto.calls()).toEqual([]);
}

const BAD_CONFIGS: [string, string, [string | RegExp, string][]][] = [
  ['a malformed CIDR', 'aws.vpc.cidr: "10.40.0.0/33" is not a CIDR', [['cidr: 10.40.0.0/16', 'cidr: 10.40.0.0/33']]],
  ['a CIDR with host bits', 'aws.vpc.cidr: "10.40.1.0/16" has host bits set (did you mean 10.40.0.0/16?)', [['cidr: 10.40.0.0/16', 'cidr: 10.40.1.0/16']]],
  ['a VPC too small for the subnets', 'aws.vpc.cidr: "10.40.0.0/24" must be between /16 and /20', [['cidr: 10.40.0.0/16', 'cidr: 10.40.0.0/24']]],
  ['pod subnets shared by both sites', 'kubernetes.onprem.podSubnet: "10.244.0.0/16" overlaps kubernetes.aws.podSubnet (10.244.0.0/16)', [['podSubnet: 10.245.0.0/16', 'podSubnet: 10.244.0.0/16']]],
  ['a CIDR overlap where the larger range comes first', 'onprem.cidr: "10.1.0.0/24" overlaps aws.vpc.cidr (10.0.0.0/8)', [['cidr: 10.40.0.0/16', 'cidr: 10.0.0.0/8'], ['cidr: 192.168.10.0/24', 'cidr: 10.1.0.0/24']]],
  ['an on-prem network inside the VPC', 'onprem.cidr: "10.40.200.0/24" overlaps aws.vpc.cidr (10.40.0.0/16)', [['cidr: 192.168.10.0/24', 'cidr: 10.40.200.0/24']]],
  ['a service range over the VPC', 'kubernetes.aws.serviceSubnet: "10.40.0.0/16" overlaps aws.vpc.cidr', [['serviceSubnet: 10.96.0.0/12', 'serviceSubnet: 10.40.0.0/16']]],
  ['admin access from the whole internet', 'aws.adminCidrs[0]: "0.0.0.0/0" opens the Talos and Kubernetes APIs to the whole internet', [['[203.0.113.10/32]', '[0.0.0.0/0]']]],
  ['admin access from the internet in two halves', 'aws.adminCidrs[1]: "128.0.0.0/1" opens the Talos and Kubernetes APIs to 2,146,304,000 public addresses (50% of the internet); list your own addresses, or set aws.allowPublicAdmin: true to accept that', [['[203.0.113.10/32]', '[0.0.0.0/1, 128.0.0.0/1]']]],
  ['admin access from a /8', 'aws.adminCidrs[0]: "0.0.0.0/8" opens the Talos and Kubernetes APIs to 16,777,216 public addresses', [['[203.0.113.10/32]', '[0.0.0.0/8]']]],
  ['admin ranges that add up to a /8', 'aws.adminCidrs: ["64.0.0.0/9","64.128.0.0/9"] together open the Talos and Kubernetes APIs to 16,777,216 public addresses', [['[203.0.113.10/32]', '[64.0.0.0/9, 64.128.0.0/9]']]],
  ['a node outside the on-prem network', 'onprem.nodes[1].address: "192.168.11.21" is outside onprem.cidr (192.168.10.0/24)', [['192.168.10.21', '192.168.11.21']]],
  ['two nodes with one address', 'onprem.nodes[1].address: "192.168.10.11" is already used by onprem.nodes[0]', [['192.168.10.21', '192.168.10.11']]],
  ['no on-prem control plane', 'onprem.nodes: needs at least one node with role: controlplane', [['role: controlplane', 'role: worker']]],
  ['no AWS control plane', 'aws.controlPlane.count: 0 must be at least 1', [['count: 3', 'count: 0']]],
  ['a misspelt field', 'aws.natGateway: is not a known field (did you mean "natGateways"?)', [['natGateways: single', 'natGateway: single']]],
  ['an unknown NAT mode', 'aws.natGateways: "sometimes" must be one of single, perAz, none', [['natGateways: single', 'natGateways: sometimes']]],
  ['a cluster name with capitals', 'metadata.name: "Demo_Cluster" is not a valid cluster name', [['name: demo', 'name: Demo_Cluster']]],
  ['a wrong apiVersion', 'apiVersion: "hybridctl.dev/v2" must be hybridctl.dev/v1alpha1', [['hybridctl.dev/v1alpha1', 'hybridctl.dev/v2']]],
  ['a missing region', 'aws.region: is required', [[/ {2}region: eu-central-1\n/, '']]],
  ['a zone of another region', 'aws.availabilityZones[1]: "eu-west-1b" is not a zone of aws.region eu-central-1', [['availabilityZones: 2', 'availabilityZones: [eu-central-1a, eu-west-1b]']]],
  ['too many zones', 'aws.availabilityZones: 5 must be at most 3', [['availabilityZones: 2', 'availabilityZones: 5']]],
  ['a VPN port out of range', 'vpn.port: 70000 must be at most 65535', [['port: 51820', 'port: 70000']]],
  ['a VPN port the nodes use', 'vpn.port: 6443 is taken on the nodes by the Kubernetes API', [['port: 51820', 'port: 6443']]],
  ['a public port the load balancer uses', 'traffic.port: 50000 is taken on the load balancer by the Talos API (apid)', [['port: 80  ', 'port: 50000  ']]],
  ['DNS failover without the on-prem edge', 'onprem.ingress: is required with traffic.dns', [['# dns:', 'dns:']]],
  ['a VPN port in the NodePort range', "vpn.port: 30080 is service.nodePort", [['port: 51820', 'port: 30080']]],
  ['a VPN gateway that is not an on-prem node', 'vpn.onpremGateway: "192.168.10.99" is not an on-prem node (one of onprem.nodes: 192.168.10.11, 192.168.10.21)', [['onpremGateway: 192.168.10.21', 'onpremGateway: 192.168.10.99']]],
  ['no VPN gateway', 'vpn.onpremGateway: is required while the VPN is enabled', [[/ {2}onpremGateway: .*\n/, '']]],
  ['a tunnel range inside the on-prem network', 'vpn.tunnelCidr: "192.168.10.252/30" overlaps onprem.cidr (192.168.10.0/24)', [['tunnelCidr: 10.255.255.252/30', 'tunnelCidr: 192.168.10.252/30']]],
  ['a Talos version that is not one', 'talos.version: "latest" is not a Talos version', [['version: v1.13.9', 'version: latest']]],
  ['a plain-HTTP Kubernetes endpoint', 'onprem.controlPlaneEndpoint: "http://192.168.10.10:6443" is not an https URL', [['https://192.168.10.10', 'http://192.168.10.10']]],
  ['telemetry deleted before it is tiered', 'aws.telemetryBucket.expireAfterDays: 20 must be greater than infrequentAccessAfterDays (30)', [['expireAfterDays: 365', 'expireAfterDays: 20']]],
  ['a reserved tag', 'aws.tags.hybridctl.dev/cluster: is reserved', [['team: platform', 'hybridctl.dev/cluster: other']]],
  ['a YAML syntax error', 'hybrid.yaml:12:3: not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]', [['vpc:\n', 'vpc: [\n']]],
  ['a key given twice', 'hybrid.yaml:13:3: not valid YAML: Map keys must be unique', [['natGateways: single', 'natGateways: single\n  natGateways: perAz']]],
];

describe('bad input: exit 2, a message naming the field, and no AWS request', () => {
  it.each(BAD_CONFIGS)('rejects %s', async (_name, message, replacements) => {
    const config = writeConfig(exampleWith(...replacements));
    await moto.record();
    const result = await runCli(['up', '-c', config], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stdout).toBe('');
    expect(await moto.calls()).toEqual([]);
  });

  it('reports every problem at once, with line numbers', async () => {
    const config = writeConfig(
      exampleWith(['cidr: 10.40.0.0/16', 'cidr: 10.40.0.0/33'], ['natGateways: single', 'natGateway: single'], ['port: 51820', 'port: 0']),
    );
    const result = await runCli(['plan', '-c', config], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('has 3 problems');
    expect(result.stderr).toMatch(/hybrid\.yaml:11: aws\.vpc\.cidr/);
    expect(result.stderr).toMatch(/hybrid\.yaml:\d+: aws\.natGateway: is not a known field/);
    expect(result.stderr).toMatch(/hybrid\.yaml:\d+: vpn\.port: 0 must be at least 1/);
  });

  it('quotes only a prefix of a long value, never a secret whole', async () => {
    const secret = `sk_live_${'Q'.repeat(52)}${'TAIL'.repeat(40)}`;
    const config = writeConfig(exampleWith(['name: demo', `name: ${secret}`]));
    await moto.record();
    const result = await runCli(['up', '-c', config], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`metadata.name: "${secret.slice(0, 60)}"… (${secret.length} characters) is not a valid cluster name`);
    expect(result.stderr).not.toContain('TAIL');
    expect(await moto.calls()).toEqual([]);
  });

  it('shows no more of the wrong file than a prefix: -c /proc/self/environ', async () => {
    const secret = `AKIA${'Z'.repeat(40)}TAILTAILTAIL`;
    const result = await runCli(['validate', '-c', '/proc/self/environ'], { ...env, HYBRIDCTL_TEST_SECRET: secret });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/\(document\): "PATH=.{1,60}"… \(\d+ characters\) is not a mapping/);
    expect(result.stderr).not.toContain('ZZZZ');
    expect(result.stderr.split('\n').filter(Boolean)).toHaveLength(2);
  });

  describe('a config that is not a regular file of at most 1 MiB: refused at once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hybridctl-files-'));
    const fifo = join(dir, 'fifo.yaml');
    execFileSync('mkfifo', [fifo]);
    const big = join(dir, 'big.yaml');
    writeFileSync(big, `# ${'x'.repeat(1024 * 1024)}\n${exampleWith()}`);
    it.each([
      ['a directory', dir, `config file ${dir} is a directory, not a regular file`],
      ['a FIFO (which would block a read until someone writes)', fifo, `config file ${fifo} is a named pipe (FIFO), not a regular file`],
      ['a device that never ends', '/dev/zero', 'config file /dev/zero is a character device, not a regular file'],
      ['a file over 1 MiB', big, `config file ${big} is ${statSync(big).size} bytes; it may be at most 1 MiB (1048576 bytes): is it the right file?`],
    ])('%s', async (_name, file, message) => refusedQuickly(file, message));
  });

  it('refuses a YAML alias bomb quickly, naming the file', async () => {
    const names = 'abcdefghij';
    const lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
    for (let i = 1; i < names.length; i++) lines.push(`${names[i]}: &${names[i]} [${Array(10).fill(`*${names[i - 1]}`).join(', ')}]`);
    const config = writeConfig(`${lines.join('\n')}\n`);
    await refusedQuickly(config, `${config}: not valid YAML: its aliases expand too far`);
  });

  it.each([
    ['a missing config file', ['up', '-c', '/nonexistent/hybrid.yaml'], 'config file /nonexistent/hybrid.yaml does not exist'],
    ['an unknown option', ['up', '--colour'], "unknown option '--colour'"],
    ['an unknown site', ['up', '--site', 'mars'], "argument 'mars' is invalid"],
    ['an unknown command', ['upp'], "unknown command 'upp'"],
  ])('rejects %s', async (_name, args, message) => {
    await moto.record();
    const result = await runCli(args, env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(await moto.calls()).toEqual([]);
  });

  it.each([
    ['a site that is not one', ['--to', 'mars'], "option '--to <site>' argument 'mars' is invalid"],
    ['no site at all', [], "required option '--to <site>' not specified"],
    ['a probe rate of zero', ['--to', 'onprem', '--probe-rate', '0'], '--probe-rate: "0" is not a rate'],
    ['a probe URL that is not one', ['--to', 'onprem', '--probe-url', 'readings.example.com'], '--probe-url: "readings.example.com" is not an http(s) URL'],
    ['--site (it works on both)', ['--to', 'onprem', '--site', 'aws'], "unknown option '--site'"],
  ])('failover refuses %s before calling AWS', async (_name, args, message) => {
    const config = writeConfig(exampleWith());
    await moto.record();
    const result = await runCli(['failover', ...args, '-c', config], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(await moto.calls()).toEqual([]);
  });

  it('failover refuses a config that builds no public entry, before calling AWS', async () => {
    const config = writeConfig(exampleWith(['enabled: true ', 'enabled: false ']));
    await moto.record();
    const result = await runCli(['failover', '--to', 'onprem', '-c', config], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('failover moves traffic through the public entry, which this config does not build');
    expect(await moto.calls()).toEqual([]);
  });

  it('rejects --region that disagrees with the config before calling AWS', async () => {
    const config = writeConfig(exampleWith());
    await moto.record();
    const result = await runCli(['up', '-c', config, '--region', 'us-west-2'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--region us-west-2 does not match aws.region eu-central-1');
    expect(await moto.calls()).toEqual([]);
  });
});
