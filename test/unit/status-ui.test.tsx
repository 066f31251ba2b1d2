import { readFileSync } from 'node:fs';
import { render } from 'ink-testing-library';
import { describe, expect, it, vi } from 'vitest';
import { problems } from '../../src/status/health.ts';
import type { PanelKey, Reading, StatusFrame } from '../../src/status/model.ts';
import { Poller, type Source } from '../../src/status/poller.ts';
import { App } from '../../src/status/ui/App.tsx';
import { Frame } from '../../src/status/ui/Frame.tsx';

/**
 * The panels in each state, rendered as the terminal shows them. The healthy frame is what the
 * real sources read from the hybrid test bed (test/integration/status.test.ts wrote it with
 * HYBRIDCTL_WRITE_STATUS_FIXTURE); the other states change it the way those failures look.
 */
const BED = JSON.parse(readFileSync(new URL('../fixtures/status/bed.json', import.meta.url), 'utf8')) as StatusFrame;
const copy = (): StatusFrame => JSON.parse(JSON.stringify(BED));
const show = (frame: StatusFrame, width = 120) => {
  const { lastFrame, unmount } = render(<Frame frame={frame} width={width} intervalS={5} problems={problems(frame, 5)} staleAfterS={900} />);
  const text = lastFrame() ?? '';
  unmount();
  return text;
};
const panel = (text: string, title: string) => {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.includes(`│ ${title}`));
  return lines.slice(start, lines.findIndex((l, i) => i > start && /╰|╯/.test(l)) + 1).join('\n');
};

describe('the status panels', () => {
  it('healthy: both sites, the service, traffic with its sparkline, data; all healthy', () => {
    const text = show(copy());
    expect(text).toContain('all healthy');
    expect(panel(text, 'on-prem site')).toMatch(/cp onprem-cp-1 Ready running svc \d+\/\d+ etcd ✓/);
    expect(panel(text, 'on-prem site')).toMatch(/wk onprem-worker-1 Ready running/);
    expect(panel(text, 'Service')).toMatch(/▶ aws \(active\): 2\/2 ready/);
    expect(panel(text, 'Traffic')).toMatch(/aws +targets - \d+\.\d req\/s err 0\.0 % p99 \d+ ms [▁▂▃▄▅▆▇█]+/);
  });

  it('degraded: a node not ready, the active site short of replicas, a stale lake signal', () => {
    const frame = copy();
    frame.sites.onprem.value!.nodes[1]!.ready = false;
    const aws = frame.service.value!.sites.aws as { ready: number };
    aws.ready = 1;
    frame.data.value!.rows = [{ signal: 'metrics', site: 'aws', objects: 12, newestAgeS: 3600 }];
    const text = show(frame);
    expect(text).toMatch(/3 problems/);
    expect(panel(text, 'on-prem site')).toMatch(/onprem-worker-1 NotReady/);
    expect(panel(text, 'Service')).toMatch(/▶ aws \(active\): 1\/2 ready/);
    expect(text).toContain('! service on the active site (aws): 1 of 2 replicas ready');
    expect(text).toContain('! data: metrics from aws is 60 min old');
  });

  it('error: the panel says why and since when, and keeps its last good reading under it', () => {
    const frame = copy();
    const reading = frame.sites.onprem as Reading<unknown>;
    reading.error = 'list nodes: cannot reach the Kubernetes API at https://127.0.52.11:6443 (ECONNREFUSED)';
    reading.lastGoodAt = '2026-11-30T16:05:07.000Z';
    // Stacked (80 columns), the panel's wrapped lines read as one text.
    const text = show(frame, 80);
    const onprem = panel(text, 'on-prem site').replace(/[│\s]+/g, ' ');
    expect(onprem).toContain('error: list nodes: cannot reach the Kubernetes API');
    expect(onprem).toContain('(last good: 16:05:07Z)');
    expect(onprem).toContain('onprem-cp-1');
    // The other site is as it was.
    expect(panel(text, 'AWS site')).not.toContain('error');
  });

  it('not set up: says what is missing', () => {
    const frame = copy();
    frame.vpn = { unset: 'the VPN is turned off (vpn.enabled)' };
    frame.data = { unset: 'no AWS credentials: the lake is in the telemetry bucket' };
    const text = show(frame);
    expect(panel(text, 'VPN')).toContain('not set up: the VPN is turned off (vpn.enabled)');
    expect(panel(text, 'Data lake')).toContain('not set up: no AWS credentials');
  });

  it('fit 80 columns by stacking, and put the sites side by side when wider', () => {
    const narrow = show(copy(), 80);
    expect(Math.max(...narrow.split('\n').map((l) => l.length))).toBeLessThanOrEqual(80);
    expect(narrow.split('\n').some((l) => l.includes('AWS site') && l.includes('on-prem site'))).toBe(false);
    const wide = show(copy(), 160);
    expect(wide.split('\n').some((l) => l.includes('AWS site') && l.includes('on-prem site'))).toBe(true);
  });
});

describe('the live view', () => {
  const sources = (): Record<PanelKey, Source<unknown>> => {
    const frame = copy();
    return {
      aws: async () => frame.sites.aws.value!,
      onprem: async () => frame.sites.onprem.value!,
      service: async () => frame.service.value!,
      traffic: async () => frame.traffic.value!,
      vpn: async () => ({ unset: 'the VPN is turned off (vpn.enabled)' }),
      data: async () => frame.data.value!,
    };
  };
  const tick = () => new Promise((r) => setTimeout(r, 50));

  it('moves between panels with tab, picks a node with the arrows, shows its events with enter, quits with q', async () => {
    const events = vi.fn(async () => ['16:01:02 Normal NodeReady: Node onprem-cp-1 status is now: NodeReady']);
    const poller = new Poller(sources(), { intervalMs: 60_000, timeoutMs: 1000 });
    const app = render(<App cluster="demo" poller={poller} intervalS={60} staleAfterS={900} problems={(f) => problems(f, 5)} events={events} />);
    await tick();
    expect(app.lastFrame()).toContain('onprem-worker-1');
    app.stdin.write('\t');
    await tick();
    app.stdin.write('\u001b[B');
    await tick();
    app.stdin.write('\r');
    await tick();
    expect(events).toHaveBeenCalledWith({ site: 'onprem', namespace: 'default', name: 'onprem-cp-1', kind: 'Node' });
    expect(app.lastFrame()).toContain('events of node onprem-cp-1 (onprem)');
    expect(app.lastFrame()).toContain('NodeReady');
    // q ends the app: Ink unmounts it, which stops the polling.
    const stopped = vi.spyOn(poller, 'stop');
    app.stdin.write('q');
    await tick();
    expect(stopped).toHaveBeenCalled();
  });
});
