import { describe, expect, it } from 'vitest';
import { Poller, readSource } from '../../src/status/poller.ts';

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
