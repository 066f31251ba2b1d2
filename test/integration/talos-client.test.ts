import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TalosClient, type TalosCredentials } from '../../src/talos/client/client.ts';
import { TalosError, TalosForeignCaError, TalosUnreachableError } from '../../src/talos/client/errors.ts';
import { adminCredentials } from '../../src/talos/credentials.ts';
import { spkiFingerprint } from '../../src/talos/pki.ts';
import { type SecretsBundle, generateBundle } from '../../src/talos/secrets.ts';
import { type TalosFleet, nodeConfig, startTalosServer } from '../support/talos.ts';

/** The Talos API client against the fake fleet, which speaks Talos's wire format (machinery's generated types). */
const MAINTENANCE = '127.0.30.10';
const CONFIGURED = '127.0.30.11';
const UNKNOWN = '127.0.30.99';

let fleet: TalosFleet;
let bundle: SecretsBundle;
let creds: TalosCredentials;

beforeAll(async () => {
  bundle = await generateBundle();
  creds = await adminCredentials(bundle);
  const config = join(mkdtempSync(join(tmpdir(), 'hybridctl-client-')), 'cp.yaml');
  writeFileSync(config, await nodeConfig({ bundle, ip: CONFIGURED, role: 'controlplane', clusterName: 'client-test' }));
  fleet = await startTalosServer([
    { ip: MAINTENANCE, role: 'worker' },
    { ip: CONFIGURED, role: 'controlplane', preconfigured: config },
  ]);
});
afterAll(async () => fleet?.stop());

async function serverFingerprint(host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host, port: 50000, rejectUnauthorized: false, servername: 'talos-node' }, () => {
      resolve(spkiFingerprint(socket.getPeerCertificate().raw));
      socket.end();
    });
    socket.on('error', reject);
  });
}

async function using<T>(client: TalosClient, fn: (c: TalosClient) => Promise<T>): Promise<T> {
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

describe('maintenance mode', () => {
  it('answers over server-only TLS, and pins the server key when asked', async () => {
    const [version] = await using(new TalosClient(MAINTENANCE, { mode: 'maintenance' }), (c) => c.version());
    expect(version?.version?.tag).toBe('v1.13.9');
    const fingerprint = await serverFingerprint(MAINTENANCE);
    await expect(using(new TalosClient(MAINTENANCE, { mode: 'maintenance', fingerprint }), (c) => c.version())).resolves.toHaveLength(1);
    const wrong = 'A'.repeat(43) + '=';
    await expect(using(new TalosClient(MAINTENANCE, { mode: 'maintenance', fingerprint: wrong }), (c) => c.version())).rejects.toThrow(/fingerprint/);
  });

  it('refuses what maintenance mode does not allow, as Talos does', async () => {
    await expect(using(new TalosClient(MAINTENANCE, { mode: 'maintenance' }), (c) => c.bootstrap())).rejects.toThrow(/not authorized/);
  });
});

describe('configured mode', () => {
  it('speaks mutual TLS with our CA and reads versions, services and the kubeconfig', async () => {
    await using(new TalosClient(CONFIGURED, creds), async (c) => {
      expect((await c.version())[0]?.version?.tag).toBe('v1.13.9');
      expect((await c.services())[0]?.services.map((s) => s.id)).toEqual(expect.arrayContaining(['apid', 'kubelet', 'etcd']));
      expect(await c.kubeconfig()).toContain(`server: https://${CONFIGURED}:6443`);
    });
  });

  it('bootstraps once; a second bootstrap fails with Talos\'s message', async () => {
    await using(new TalosClient(CONFIGURED, creds), async (c) => {
      await c.bootstrap();
      expect((await c.etcdMembers())[0]?.members.length).toBeGreaterThan(0);
      await expect(c.bootstrap()).rejects.toThrow('etcd data directory is not empty');
    });
  });

  it('addresses nodes through an endpoint, and names the node a per-node error comes from', async () => {
    await using(new TalosClient(CONFIGURED, creds), async (c) => {
      const messages = await c.version([CONFIGURED]);
      expect(messages[0]?.metadata?.hostname).toBe(CONFIGURED);
      const error = await c.version([CONFIGURED, UNKNOWN]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TalosError);
      expect((error as TalosError).node).toBe(UNKNOWN);
      expect((error as TalosError).message).toContain(`Talos node ${UNKNOWN}: `);
    });
  });

  it('retries while a node is unavailable (rebooting), then gets through', async () => {
    await fleet.fail(CONFIGURED, 'Version', 2);
    const reports: string[] = [];
    const result = await using(new TalosClient(CONFIGURED, creds), (c) => c.whileUnavailable(() => c.version(), 20_000, (m) => reports.push(m), 'the reboot'));
    expect(result).toHaveLength(1);
    expect(reports).toEqual(['waiting for the reboot', 'waiting for the reboot']);
  });

  it('says so when a node answers with another cluster\'s CA', async () => {
    const other = await adminCredentials(await generateBundle());
    const error = await using(new TalosClient(CONFIGURED, other), (c) => c.version()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TalosForeignCaError);
    expect((error as TalosError).message).toContain("this cluster's Talos CA did not sign");
  });
});

describe('an unreachable host', () => {
  it('gets the maintenance-mode question', async () => {
    const error = await using(new TalosClient(UNKNOWN, { mode: 'maintenance' }, { timeoutMs: 3_000 }), (c) => c.version()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TalosUnreachableError);
    expect((error as TalosError).hint).toContain('is it booted from Talos media and in maintenance mode');
  });
});
