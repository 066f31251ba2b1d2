import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/load.ts';
import { awsGatewayPatch, onpremGatewayPatch, routedNodePatch } from '../../src/vpn/documents.ts';
import { generateKeyPair, isWireguardKey, publicKeyOf } from '../../src/vpn/keys.ts';
import { routerRoute, vpnPlan } from '../../src/vpn/plan.ts';
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
    expect(plan && routerRoute(plan)).toBe('10.40.0.0/16 via 192.168.10.21');
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
      { apiVersion: 'v1alpha1', kind: 'LinkConfig', name: 'enp1s0', routes: [{ destination: '10.40.0.0/16', gateway: '192.168.10.21' }] },
      { apiVersion: 'v1alpha1', kind: 'DHCPv4Config', name: 'enp1s0' },
    ]);
    expect(routedNodePatch(plan, { link: 'eth0', dhcpLinks: [] }).documents).toHaveLength(1);
  });
});
