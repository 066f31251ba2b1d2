import type { SiteName } from '../core/config/schema.ts';
import { UsageError } from '../core/errors.ts';
import type { ProgressMode } from '../output/progress.ts';
import { type Paint, painter } from '../output/terminal.ts';

/** Options every command accepts (commander hands them over merged with the command's own). */
export interface GlobalOptions {
  config: string;
  stateDir?: string;
  profile?: string;
  region?: string;
  endpointUrl?: string;
  /** csv: `data query` only (the program refuses it elsewhere). */
  output: 'text' | 'json' | 'csv';
  color: boolean;
  site?: SiteName;
  layer?: 'base';
  forceConflicts?: boolean;
  reinstall?: string[];
}

export interface Terminal {
  out: NodeJS.WriteStream;
  err: NodeJS.WriteStream;
  paint: Paint;
  /** How to show progress: a live task list on a terminal, lines otherwise, nothing for JSON. */
  progress: ProgressMode;
}

export function terminal(options: GlobalOptions): Terminal {
  const out = process.stdout;
  const colour = options.color && !process.env.NO_COLOR;
  return {
    out,
    err: process.stderr,
    paint: painter(out, colour),
    // A terminal that reports no width (some CI pseudo-terminals) cannot hold a live display.
    progress: options.output === 'json' ? 'silent' : out.isTTY && (out.columns ?? 0) > 0 ? 'tty' : 'plain',
  };
}

/** What a command did: a line for people, or with `-o json` one document for scripts. */
export function report(options: GlobalOptions, line: string, result: Record<string, unknown>): void {
  process.stdout.write(options.output === 'json' ? `${JSON.stringify(result, null, 2)}\n` : `${line}\n`);
}

export function sitesOf(options: GlobalOptions): SiteName[] {
  if (options.site !== undefined && options.site !== 'aws' && options.site !== 'onprem') throw new UsageError(`--site: "${options.site}" is not a site (expected aws or onprem)`);
  // The base layer is AWS's network, keys and buckets: there is none on-prem, so no host is touched.
  if (options.layer === 'base') {
    if (options.site === 'onprem') throw new UsageError('--layer base: the base layer is AWS only (network, security groups, IAM, KMS, buckets, registry); use it with --site aws or without --site');
    return ['aws'];
  }
  return options.site === undefined ? ['aws', 'onprem'] : [options.site];
}

/** The AWS session's settings the global options give: profile, region, endpoint. */
export function awsSettings(options: GlobalOptions): { profile?: string; region?: string; endpoint?: string } {
  return {
    ...(options.profile ? { profile: options.profile } : {}),
    ...(options.region ? { region: options.region } : {}),
    ...(options.endpointUrl ? { endpoint: options.endpointUrl } : {}),
  };
}

export function pipelineOptions(options: GlobalOptions, allowOffline: boolean) {
  return {
    sites: sitesOf(options),
    configFile: options.config,
    ...(options.stateDir ? { stateDir: options.stateDir } : {}),
    allowOffline,
    ...awsSettings(options),
    ...(options.layer ? { layer: options.layer } : {}),
    ...(options.forceConflicts ? { forceConflicts: true } : {}),
    ...(options.reinstall?.length ? { reinstall: options.reinstall } : {}),
  };
}

/** Aborts on the first Ctrl-C (in-flight calls finish, nothing new starts); a second one exits at once. */
export function interruptible(err: NodeJS.WriteStream): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130);
    err.write('\ninterrupted: letting calls in flight finish; press Ctrl-C again to quit now. Re-run to continue where this stopped.\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
