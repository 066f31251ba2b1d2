import { DescribeInstancesCommand, DescribeVolumesCommand } from '@aws-sdk/client-ec2';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killedAt, runCli } from '../support/cli.ts';
import { type Clients, NOTHING, byComponent, clients, counts, inventory } from '../support/inventory.ts';
import { generateKeyPair, publicKeyOf } from '../../src/vpn/keys.ts';
import { isWrite } from '../support/kube.ts';
import { changingCalls } from '../support/moto.ts';
import { Netns } from '../support/netns.ts';
import { LAN, ONPREM_PUBLIC, type VpnBed, startVpnBed } from '../support/vpn-bed.ts';

/**
 * The VPN end to end: `up` builds both sites and the tunnel between them, and proves that traffic
 * crosses it. Every peer is real or Talos's own code except the kubelets and the cloud's data
 * path: moto holds the AWS side, fake Talos nodes make the WireGuard links hybridctl configures
 * with wireguard-go in network namespaces, and probe pods run for real in those namespaces.
 */
const run = await Netns.available();
let bed: VpnBed;
let aws: Clients;

beforeAll(async () => {
  if (!run) return;
  bed = await startVpnBed({ awsApi: '127.0.91.1', awsNodesNet: '127.0.92' });
  aws = clients(bed.moto.endpoint);
}, 600_000);
afterAll(async () => bed?.stop());

const cli = (...args: string[]) => runCli([...args, '--state-dir', bed.stateDir], bed.env);

describe.runIf(run)('the site-to-site VPN', () => {
  it('comes up with both sites, and up proves traffic crosses it both ways', async () => {
    const plan = JSON.parse((await cli('plan', '-o', 'json', '-c', bed.config())).stdout);
    const planned = plan.sites.flatMap((s: { changes: { id: string }[] }) => s.changes.map((c) => c.id));
    expect(planned).toEqual(expect.arrayContaining(['vpn-keys', 'sg-vpn-gateway-ingress', 'vpn-eip', 'vpn-gateway', 'vpn-eip-association', 'talos-vpn-gateway', 'vpn-aws-gateway']));
    expect(planned).toContain(`routes-private-a:${LAN.cidr}`);
    expect(JSON.stringify(plan)).toContain(`10.40.0.0/16 via ${LAN.gateway}`);

    const result = await cli('up', '-c', bed.config());
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('✔ aws → onprem');
    expect(result.stdout).toContain('✔ onprem → aws');
    expect(result.stdout).toContain('traffic crosses the tunnel both ways');
  }, 600_000);

  it('holds on AWS: the gateway with its Elastic IP, routing for the site, the VPN port from on-prem only, a route in every table', async () => {
    const inv = await inventory(aws, 'demo');
    const instances = byComponent(inv.instances);
    const gateway = instances['vpn-gateway'];
    expect(gateway?.SourceDestCheck).toBe(false);
    expect(gateway?.MetadataOptions?.HttpTokens).toBe('required');
    expect(gateway?.InstanceType).toBe('t3.small');
    const subnets = byComponent(inv.subnets);
    expect(gateway?.SubnetId).toBe(subnets['subnet-public-a']?.SubnetId);
    const groups = byComponent(inv.sgs);
    expect(gateway?.SecurityGroups?.map((g) => g.GroupId).sort()).toEqual([groups['sg-vpn-gateway']?.GroupId, groups['sg-workers']?.GroupId].sort());
    const volume = (await aws.ec2.send(new DescribeVolumesCommand({ VolumeIds: [gateway?.BlockDeviceMappings?.[0]?.Ebs?.VolumeId ?? ''] }))).Volumes?.[0];
    expect(volume).toMatchObject({ Encrypted: true, KmsKeyId: inv.kmsKeys[0]?.meta?.Arn });

    const eip = byComponent(inv.eips)['vpn-eip'];
    expect(eip?.InstanceId).toBe(gateway?.InstanceId);
    expect(groups['sg-vpn-gateway']?.IpPermissions).toEqual([
      expect.objectContaining({ IpProtocol: 'udp', FromPort: 51820, ToPort: 51820, IpRanges: [expect.objectContaining({ CidrIp: `${ONPREM_PUBLIC}/32` })] }),
    ]);
    expect(JSON.stringify(groups['sg-workers']?.IpPermissions)).toContain(LAN.cidr);
    const eni = gateway?.NetworkInterfaces?.[0]?.NetworkInterfaceId;
    for (const table of inv.rts) {
      const viaGateway = (table.Routes ?? []).filter((r) => r.NetworkInterfaceId === eni).map((r) => r.DestinationCidrBlock).sort();
      expect(viaGateway, JSON.stringify(table.Tags)).toEqual(['10.255.255.252/30', LAN.cidr]);
    }
    expect(inv.rts).toHaveLength(3);
  });

  it('holds on Talos: the tunnel on both gateways, the route on the other on-prem nodes, every address kept', async () => {
    const onprem = await bed.fleets.onprem.status();
    const byIp = Object.fromEntries(onprem.map((n) => [n.ip, n]));
    expect(byIp[LAN.gateway]?.links).toEqual(['wg-hybrid']);
    expect(byIp[LAN.cp]?.links).toEqual([]);
    for (const node of [...onprem, ...(await bed.fleets.aws.status())]) expect([node.ip, node.lostAddress, node.realiseError]).toEqual([node.ip, '', '']);
    const awsGateway = (await bed.fleets.aws.status()).filter((n) => n.links.length > 0);
    expect(awsGateway).toHaveLength(1);
    // The keys are kept with the site's secrets, 0600, and never printed.
    const key = parse(readFileSync(join(bed.stateDir, 'wireguard', 'onprem-gateway.yaml'), 'utf8'));
    expect(key.privateKey).toMatch(/=$/);
  });

  it('vpn check shows both links and proves both directions; a second up changes nothing anywhere', async () => {
    const check = await cli('vpn', 'check', '-o', 'json', '-c', bed.config());
    expect(check.code, check.stdout + check.stderr).toBe(0);
    const report = JSON.parse(check.stdout);
    expect(report.verdict).toBe('crossed');
    expect(report.directions.map((d: { from: string; answeredBy: string }) => [d.from, d.answeredBy.split(' ')[0]])).toEqual([
      ['aws', 'onprem'],
      ['onprem', 'aws'],
    ]);
    const aws = report.gateways.find((g: { site: string }) => g.site === 'aws');
    expect(aws.link.peers[0].endpoint).toContain(ONPREM_PUBLIC);

    const applies = async () => [...(await bed.fleets.onprem.status()), ...(await bed.fleets.aws.status())].map((n) => n.applyCount);
    const before = await applies();
    const writes = () => bed.kube.onprem.adminRequests().filter(isWrite).length + bed.kube.aws.adminRequests().filter(isWrite).length;
    const kubeWrites = writes();
    await bed.moto.record();
    const again = await cli('up', '-c', bed.config());
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain('nothing to do');
    expect(changingCalls(await bed.moto.calls())).toEqual([]);
    expect(await applies()).toEqual(before);
    expect(writes()).toBe(kubeWrites);
    expect(again.stdout + again.stderr).not.toMatch(/privateKey|[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=.*private/);
  }, 300_000);

  it('moves the tunnel when the gateway moves to another on-prem node, and the old one gets the route', async () => {
    const moved = await cli('up', '-c', bed.config(['onpremGateway: 192.168.77.21', `onpremGateway: ${LAN.worker}`]));
    expect(moved.code, moved.stdout + moved.stderr).toBe(0);
    expect(moved.stdout).toContain('traffic crosses the tunnel both ways');
    const links = async () => Object.fromEntries((await bed.fleets.onprem.status()).map((n) => [n.ip, [n.links, n.lostAddress, n.realiseError]]));
    expect(await links()).toEqual({ [LAN.cp]: [[], '', ''], [LAN.gateway]: [[], '', ''], [LAN.worker]: [['wg-hybrid'], '', ''] });
    const back = await cli('up', '-c', bed.config());
    expect(back.code, back.stdout + back.stderr).toBe(0);
    expect((await links())[LAN.gateway]).toEqual([['wg-hybrid'], '', '']);
  }, 300_000);

  it('names a key mismatch when the gateways do not hold each other\'s keys, and vpn rotate repairs it', async () => {
    // Another state directory's keys: this one's AWS pair is new, the AWS gateway still runs the old one.
    const keyFile = join(bed.stateDir, 'wireguard', 'aws-gateway.yaml');
    writeFileSync(keyFile, `privateKey: ${generateKeyPair().privateKey}\n`, { mode: 0o600 });
    const onpremOnly = await cli('up', '--site', 'onprem', '-c', bed.config());
    expect(onpremOnly.code, onpremOnly.stdout + onpremOnly.stderr).toBe(1);
    expect(onpremOnly.stdout).toContain('no traffic crosses the tunnel');
    expect(onpremOnly.stdout).toContain('key mismatch: the AWS gateway runs key');

    const rotate = await cli('vpn', 'rotate', '-c', bed.config());
    expect(rotate.code, rotate.stdout + rotate.stderr).toBe(0);
    expect(rotate.stdout).toContain('traffic crosses the tunnel both ways');
    const check = JSON.parse((await cli('vpn', 'check', '-o', 'json', '-c', bed.config())).stdout);
    const held = Object.fromEntries(check.gateways.map((g: { site: string; link: { publicKey: string } }) => [g.site, g.link.publicKey]));
    const state = (site: string) => publicKeyOf(parse(readFileSync(join(bed.stateDir, 'wireguard', `${site}-gateway.yaml`), 'utf8')).privateKey);
    expect(held).toEqual({ aws: state('aws'), onprem: state('onprem') });
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
  }, 300_000);

  it('names the cause when the on-prem firewall drops the VPN port, and passes again once it does not', async () => {
    const rule = ['FORWARD', '-p', 'udp', '--dport', '51820', '-j', 'DROP'];
    await bed.net.run(bed.ns.lan, 'iptables', ['-I', ...rule]);
    const blocked = await cli('vpn', 'check', '--deadline', '8', '-o', 'json', '-c', bed.config());
    await bed.net.run(bed.ns.lan, 'iptables', ['-D', ...rule]);
    expect(blocked.code).toBe(1);
    const report = JSON.parse(blocked.stdout);
    expect(report.verdict).toBe('failed');
    expect(report.causes.join('\n')).toMatch(/packets enter the tunnel at the (AWS|on-prem) gateway but do not come out at the (on-prem|AWS) gateway \(UDP 51820 is dropped on the way/);
    const open = await cli('vpn', 'check', '-c', bed.config());
    expect(open.code, open.stdout).toBe(0);
  }, 300_000);

  it('down removes the gateway, its address and routes, resets the hosts, and leaves nothing tagged', async () => {
    const down = await cli('down', '--yes', '-c', bed.config());
    expect(down.code, down.stdout + down.stderr).toBe(0);
    expect(counts(await inventory(aws, 'demo'))).toEqual(NOTHING);
    const running = await aws.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-state-name', Values: ['running'] }] }));
    expect(running.Reservations?.flatMap((r) => r.Instances ?? [])).toEqual([]);
    expect((await bed.fleets.onprem.status()).map((n) => [n.mode, n.links])).toEqual([
      ['maintenance', []],
      ['maintenance', []],
      ['maintenance', []],
    ]);
    expect(existsSync(join(bed.stateDir, 'wireguard', 'aws-gateway.yaml')) || existsSync(join(bed.stateDir, 'wireguard', 'onprem-gateway.yaml'))).toBe(false);
  }, 600_000);

  it('builds one site at a time: the first says the other end is not built yet, the second proves the tunnel', async () => {
    const awsFirst = await cli('up', '--site', 'aws', '-c', bed.config());
    expect(awsFirst.code, awsFirst.stdout + awsFirst.stderr).toBe(0);
    expect(awsFirst.stdout).toContain('the onprem end of the VPN is not built yet');
    const onpremNext = await cli('up', '--site', 'onprem', '-c', bed.config());
    expect(onpremNext.code, onpremNext.stdout + onpremNext.stderr).toBe(0);
    expect(onpremNext.stdout).toContain('traffic crosses the tunnel both ways');
    expect((await cli('down', '--yes', '-c', bed.config())).code).toBe(0);
  }, 600_000);

  it('converges after up is killed while the gateway comes up, with no duplicates', async () => {
    const args = ['up', '-c', bed.config(), '--state-dir', bed.stateDir];
    const seen = await killedAt(/vpn-gateway: (turning the source|waiting for i-)/, args, bed.env);
    expect(seen).toContain('vpn-gateway');
    const rerun = await cli('up', '-c', bed.config());
    expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0);
    expect(rerun.stdout).toContain('traffic crosses the tunnel both ways');
    const inv = await inventory(aws, 'demo');
    expect(inv.instances.filter((i) => i.Tags?.some((t) => t.Value === 'vpn-gateway'))).toHaveLength(1);
    expect(inv.eips).toHaveLength(2);
    expect(byComponent(inv.instances)['vpn-gateway']?.SourceDestCheck).toBe(false);
    expect((await cli('down', '--yes', '-c', bed.config())).code).toBe(0);
  }, 600_000);
});
