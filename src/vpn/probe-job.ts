import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Pod } from '@kubernetes/client-node';
import { parse } from 'yaml';
import type { KubeClient, KubeObject } from '../kube/client.ts';
import { SERVICE_NAMESPACE, fill } from '../service/manifests.ts';

const TEMPLATE = new URL('../../templates/vpn/probe-job.yaml', import.meta.url);

/** What the probe (service/cmd/probe) reports per target. */
export interface ProbeResult {
  target: string;
  ok: number;
  failed: number;
  rttMs?: { min: number; p50: number; max: number };
  /** Which site and node answered (`X-Site`, `X-Node`; several nodes comma-separated). */
  site?: string;
  node?: string;
  error?: string;
}

export interface ProbeRun {
  results: ProbeResult[];
  /** Why there are no results: the pod never ran, or ended without any. */
  error?: string;
}

export interface ProbeOptions {
  cluster: string;
  /** The service's image and pull secrets, as its Deployment on this site has them. */
  image: string;
  pullSecrets: string[];
  targets: string[];
  /** How long the probe keeps trying (a fresh tunnel needs a moment). */
  deadlineSeconds: number;
  report(message: string): void;
  signal?: AbortSignal;
}

/** The probe Job for a site: its own name each time, so runs never collide. */
export function probeJob(options: Omit<ProbeOptions, 'report' | 'signal'>): KubeObject {
  const args = ['-deadline', `${options.deadlineSeconds}s`, '-count', '5', ...options.targets.flatMap((t) => ['-target', t])];
  const text = fill(
    readFileSync(TEMPLATE, 'utf8'),
    {
      name: `hybridctl-vpn-probe-${randomBytes(3).toString('hex')}`,
      namespace: SERVICE_NAMESPACE,
      cluster: options.cluster,
      image: options.image,
      imagePullSecrets: JSON.stringify(options.pullSecrets.map((name) => ({ name }))),
      args: JSON.stringify(args),
      activeDeadlineSeconds: options.deadlineSeconds + 120,
    },
    'vpn/probe-job',
  );
  return parse(text) as KubeObject;
}

/**
 * Runs the probe on a site: creates the Job, waits for its pod to end, reads the result from the
 * termination message, and deletes the Job (also when interrupted or failing).
 */
export async function runProbe(kube: KubeClient, options: ProbeOptions): Promise<ProbeRun> {
  const job = probeJob(options);
  await kube.apply(job);
  try {
    const deadline = Date.now() + (options.deadlineSeconds + 120) * 1000;
    for (;;) {
      const pod = (await kube.pods(SERVICE_NAMESPACE, `job-name=${job.metadata.name}`))[0];
      const ended = pod?.status?.containerStatuses?.[0]?.state?.terminated;
      if (ended) return parseResult(ended.message, ended.exitCode);
      if (Date.now() > deadline) return { results: [], error: `the probe pod did not finish in time (${podState(pod)})` };
      options.report(`probe pod ${podState(pod)}`);
      await sleep(1_000, undefined, options.signal ? { signal: options.signal } : {});
    }
  } finally {
    await kube.delete(job);
  }
}

function parseResult(message: string | undefined, exitCode: number): ProbeRun {
  try {
    const parsed = JSON.parse(message ?? '') as { results?: ProbeResult[] };
    if (Array.isArray(parsed.results)) return { results: parsed.results };
  } catch {
    // Not the probe's JSON: the container failed before it wrote one (the kubelet then keeps the log's tail).
  }
  return { results: [], error: `the probe exited with code ${exitCode} without a result${message ? `: ${message.trim().split('\n').slice(-3).join(' ')}` : ''}` };
}

function podState(pod: V1Pod | undefined): string {
  if (!pod) return 'not created yet';
  const waiting = pod.status?.containerStatuses?.[0]?.state?.waiting;
  if (waiting) return `${pod.status?.phase ?? 'Pending'}: ${waiting.reason ?? 'waiting'}${waiting.message ? ` (${waiting.message})` : ''}`;
  const unschedulable = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (unschedulable) return `not scheduled: ${unschedulable.message ?? unschedulable.reason ?? ''}`;
  return pod.status?.phase ?? 'Pending';
}
