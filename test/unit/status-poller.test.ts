import { describe, expect, it, vi } from 'vitest';
import { Poller, readSource } from '../../src/status/poller.ts';
import { TalosClients } from '../../src/status/sources/talos-clients.ts';
import { TalosClient } from '../../src/talos/client/client.ts';

describe("status's sources", () => {
  it('keep the last good value and its time beside a failure', async () => {
    const good = await readSource(async () => ({ n: 1 }), undefined, 1000);
    expect(good).toMatchObject({ value: { n: 1 }, lastGoodAt: expect.any(String) });
    const failed = await readSource(
      async () => {
        throw new Error('connection refused');
      },
      good,
      1000,
    );
    expect(failed).toEqual({ value: { n: 1 }, lastGoodAt: good.lastGoodAt, error: 'connection refused' });
  });

  it('give up at their deadline, and the abort reaches the source', async () => {
    let aborted = false;
    const slow = await readSource(
      (signal) =>
        new Promise<{ late: boolean }>((resolve) => {
          signal.addEventListener('abort', () => (aborted = true));
          setTimeout(() => resolve({ late: true }), 5_000).unref();
        }),
      undefined,
      100,
    );
    expect(slow).toEqual({ error: 'no answer within 0.1 s' });
    expect(aborted).toBe(true);
  });

  it('say why something is not set up', async () => {
    expect(await readSource(async () => ({ unset: 'the VPN is turned off' }), undefined, 1000)).toMatchObject({ unset: 'the VPN is turned off' });
  });

  it('are polled each on its own: a hanging one holds up no other', async () => {
    const seen: string[] = [];
    const poller = new Poller({ fast: async () => 'ok', stuck: () => new Promise<never>(() => {}) }, { intervalMs: 50, timeoutMs: 400 });
    poller.subscribe((key) => seen.push(key));
    poller.start();
    await new Promise((r) => setTimeout(r, 250));
    expect(seen.filter((k) => k === 'fast').length).toBeGreaterThanOrEqual(3);
    expect(seen).not.toContain('stuck');
    await new Promise((r) => setTimeout(r, 300));
    poller.stop();
    expect(poller.readings.get('stuck')).toMatchObject({ error: expect.stringContaining('no answer') });
  });
});

describe("status's Talos clients", () => {
  // Real clients: made without connecting (a channel opens on the first call), their close watched.
  const make = (address: string) => () => {
    const client = new TalosClient(address, { mode: 'maintenance' });
    vi.spyOn(client, 'close');
    return client;
  };

  it('are kept from one refresh to the next, and made anew after a failed call', async () => {
    const clients = new TalosClients();
    const first = await clients.use('a', make('192.0.2.1'), async (c) => c);
    expect(await clients.use('a', make('192.0.2.1'), async (c) => c)).toBe(first);
    await expect(clients.use('a', make('192.0.2.1'), () => Promise.reject(new Error('unavailable')))).rejects.toThrow('unavailable');
    expect(first.close).toHaveBeenCalledOnce();
    expect(await clients.use('a', make('192.0.2.1'), async (c) => c)).not.toBe(first);
    clients.close();
  });

  it('close those of nodes no longer listed, and all on close', async () => {
    const clients = new TalosClients();
    const [a, b] = [await clients.use('a', make('192.0.2.1'), async (c) => c), await clients.use('b', make('192.0.2.2'), async (c) => c)];
    clients.keepOnly(new Set(['b']));
    expect(a.close).toHaveBeenCalledOnce();
    expect(b.close).not.toHaveBeenCalled();
    clients.close();
    expect(b.close).toHaveBeenCalledOnce();
  });
});
