import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/load.ts';
import { type DirectionCheck, type GatewayCheck, diagnose } from '../../src/vpn/diagnose.ts';
import { awsGatewayPatch, onpremGatewayPatch, routedNodePatch } from '../../src/vpn/documents.ts';
import { generateKeyPair, isWireguardKey, publicKeyOf } from '../../src/vpn/keys.ts';
import { routerRoutes, vpnPlan } from '../../src/vpn/plan.ts';
import { EXAMPLE, exampleWith } from '../support/config.ts';

describe('WireGuard keys', () => {
  it('match what wg itself derives, and are clamped as wg genkey writes them', () => {
    for (let i = 0; i < 5; i++) {
      const pair = generateKeyPair();
      expect(isWireguardKey(pair.privateKey) && isWireguardKey(pair.publicKey)).toBe(true);
      expect(execFileSync('wg', ['pubkey'], { input: pair.privateKey }).toString().trim()).toBe(pair.publicKey);
      const raw = Buffer.from(pair.privateKey, 'base64');
      expect([(raw[0] ?? 0) & 7, (raw[31] ?? 0) & 0xc0]).toEqual([0, 0x40]);
    }
    const fromWg = execFileSync('wg', ['genkey']).toString().trim();
    expect(publicKeyOf(fromWg)).toBe(execFileSync('wg', ['pubkey'], { input: fromWg }).toString().trim());
  });
});

describe('the VPN plan', () => {
  const plan = vpnPlan(parseConfig(EXAMPLE));

  it('gives each gateway a tunnel address and the other site as what it accepts and routes', () => {
    expect(plan).toMatchObject({
      port: 51820,
      onpremGateway: '192.168.10.21',
      aws: { address: '10.255.255.253/30', allowedIps: ['192.168.10.0/24', '10.255.255.254/32'], routes: ['192.168.10.0/24'] },
      onprem: { address: '10.255.255.254/30', allowedIps: ['10.40.0.0/16', '10.255.255.253/32'], routes: ['10.40.0.0/16'] },
    });
    expect(plan?.viaAwsGateway).toEqual(['192.168.10.0/24', '10.255.255.252/30']);
    expect(plan && routerRoutes(plan)).toEqual(['10.40.0.0/16 via 192.168.10.21', '10.255.255.252/30 via 192.168.10.21']);
  });

  it('is off when the config turns the VPN off', () => {
    expect(vpnPlan(parseConfig(exampleWith(['enabled: true ', 'enabled: false '])))).toBeUndefined();
  });

  it('renders the gateways as peers of each other, keys crossed, the on-prem side dialling with keepalives', () => {
    if (!plan) throw new Error('no plan');
    const aws = generateKeyPair();
    const onprem = generateKeyPair();
    const [awsNode, awsLink, awsDhcp] = awsGatewayPatch(plan, { privateKey: aws.privateKey, peerPublicKey: onprem.publicKey }).documents;
    // A network document ends Talos's default DHCP: the AWS gateway asks for it on its one link.
    expect(awsDhcp).toEqual({ apiVersion: 'v1alpha1', kind: 'DHCPv4Config', name: 'eth0' });
    expect(awsNode).toEqual({
      machine: {
        nodeTaints: { 'hybridctl.dev/vpn-gateway': 'true:NoSchedule' },
        nodeLabels: { 'hybridctl.dev/vpn-gateway': 'aws', 'node.kubernetes.io/exclude-from-external-load-balancers': '' },
      },
    });
    expect(awsLink).toMatchObject({ kind: 'WireguardConfig', name: 'wg-hybrid', privateKey: aws.privateKey, listenPort: 51820, peers: [{ publicKey: onprem.publicKey, allowedIPs: plan.aws.allowedIps }] });
    expect((awsLink?.peers as object[])[0]).not.toHaveProperty('endpoint');
    const [, onpremLink, ...onpremDhcp] = onpremGatewayPatch(plan, { privateKey: onprem.privateKey, peerPublicKey: aws.publicKey }, '3.120.0.9', { link: 'enp1s0', dhcpLinks: ['enp1s0', 'enp2s0'] }).documents;
    expect(onpremDhcp.map((d) => d.name)).toEqual(['enp1s0', 'enp2s0']);
    expect(onpremLink).toMatchObject({
      privateKey: onprem.privateKey,
      peers: [{ publicKey: aws.publicKey, endpoint: '3.120.0.9:51820', persistentKeepaliveInterval: '25s', allowedIPs: plan.onprem.allowedIps }],
      addresses: [{ address: '10.255.255.254/30' }],
      routes: [{ destination: '10.40.0.0/16' }],
    });
  });

  it('routes the other on-prem nodes through the gateway, keeping DHCP on every DHCP link', () => {
    if (!plan) throw new Error('no plan');
    expect(routedNodePatch(plan, { link: 'enp1s0', dhcpLinks: ['enp1s0'] }).documents).toEqual([
      {
        apiVersion: 'v1alpha1',
        kind: 'LinkConfig',
        name: 'enp1s0',
        routes: [
          { destination: '10.40.0.0/16', gateway: '192.168.10.21' },
          { destination: '10.255.255.252/30', gateway: '192.168.10.21' },
        ],
      },
      { apiVersion: 'v1alpha1', kind: 'DHCPv4Config', name: 'enp1s0' },
    ]);
    expect(routedNodePatch(plan, { link: 'eth0', dhcpLinks: [] }).documents).toHaveLength(1);
  });
});

describe('the diagnosis when traffic does not cross', () => {
  const keys = { aws: generateKeyPair().publicKey, onprem: generateKeyPair().publicKey };
  const expected = { awsPublicKey: keys.aws, onpremPublicKey: keys.onprem, awsEndpoint: '54.214.1.2:51820', onpremPublicAddress: '198.51.100.7', port: 51820 };
  const link = (own: string, peer: string, endpoint = '') => ({ state: 'unknown', publicKey: own, listenPort: 51820, peers: [{ publicKey: peer, endpoint, allowedIps: [] }] });
  const healthy = (): GatewayCheck[] => [
    { site: 'aws', address: '10.40.128.4', link: link(keys.aws, keys.onprem, '198.51.100.7:40001'), counters: { before: { rxBytes: 0, txBytes: 0 }, after: { rxBytes: 500, txBytes: 600 } } },
    { site: 'onprem', address: '192.168.10.21', link: link(keys.onprem, keys.aws, '54.214.1.2:51820'), counters: { before: { rxBytes: 0, txBytes: 0 }, after: { rxBytes: 600, txBytes: 500 } } },
  ];
  const failed: DirectionCheck[] = [{ from: 'aws', to: 'onprem', targets: ['http://192.168.10.21:30080/readyz'], crossed: false, error: 'no answer within -deadline 45s' }];

  it('finds nothing to say when both gateways hold what they should and traffic crosses', () => {
    expect(diagnose(healthy(), [{ from: 'aws', to: 'onprem', targets: [], crossed: true }], expected)).toEqual([]);
  });

  it('names a missing link, a link that is down, and a gateway Talos cannot be asked about', () => {
    const [aws, onprem] = healthy();
    expect(diagnose([{ ...aws, link: undefined } as GatewayCheck, onprem as GatewayCheck], [], expected)[0]).toContain('has no WireGuard link wg-hybrid');
    expect(diagnose([aws as GatewayCheck, { ...onprem, link: { ...link(keys.onprem, keys.aws), state: 'down' } } as GatewayCheck], [], expected)[0]).toContain('is down');
    expect(diagnose([{ site: 'aws', address: '(none)', error: 'AWS cannot be asked' }, onprem as GatewayCheck], [], expected)[0]).toContain('cannot be asked through Talos');
  });

  it('names key mismatches against this state directory and between the gateways', () => {
    const [aws, onprem] = healthy();
    const other = generateKeyPair().publicKey;
    const causes = diagnose([{ ...aws, link: link(other, keys.onprem) } as GatewayCheck, onprem as GatewayCheck], [], expected);
    expect(causes).toEqual([
      expect.stringMatching(/^key mismatch: the AWS gateway runs key .* but this state directory has/),
      expect.stringMatching(/^key mismatch: the on-prem gateway expects the AWS key .* but the AWS gateway has/),
    ]);
  });

  it('names a wrong public endpoint', () => {
    const [aws, onprem] = healthy();
    expect(diagnose([aws as GatewayCheck, { ...onprem, link: link(keys.onprem, keys.aws, '54.214.9.9:51820') } as GatewayCheck], [], expected)).toEqual([
      expect.stringContaining('wrong public endpoint: the on-prem gateway dials 54.214.9.9:51820, but the AWS gateway\'s Elastic IP is 54.214.1.2:51820'),
    ]);
  });

  it('suspects the on-prem firewall or public address when nothing from on-prem ever reached AWS', () => {
    const [aws, onprem] = healthy();
    const causes = diagnose([{ ...aws, link: link(keys.aws, keys.onprem, '') } as GatewayCheck, onprem as GatewayCheck], failed, expected);
    expect(causes).toEqual([expect.stringContaining('the on-prem firewall may drop UDP out to 54.214.1.2:51820, or onprem.publicEndpoint (198.51.100.7)')]);
  });

  it('tells where packets stop from the counters: not entering the tunnel, lost in it, or the NodePort not answering', () => {
    const notEntering = healthy();
    notEntering[0] = { ...notEntering[0], counters: { before: { rxBytes: 0, txBytes: 0 }, after: { rxBytes: 0, txBytes: 0 } } } as GatewayCheck;
    expect(diagnose(notEntering, failed, expected)[0]).toContain('never entered the tunnel at the AWS gateway');
    const lost = healthy();
    lost[1] = { ...lost[1], counters: { before: { rxBytes: 0, txBytes: 0 }, after: { rxBytes: 0, txBytes: 0 } } } as GatewayCheck;
    expect(diagnose(lost, failed, expected)[0]).toContain('enter the tunnel at the AWS gateway but do not come out at the on-prem gateway');
    expect(diagnose(healthy(), failed, expected)[0]).toContain('the tunnel carries packets, but the on-prem NodePort did not answer (no answer within -deadline 45s)');
  });
});
