import type { HybridConfig } from '../core/config/schema.ts';
import { forceSync } from '../state/run.ts';
import type { SyncResult } from '../state/sync.ts';
import { type GlobalOptions, terminal } from './options.ts';
import { stateAccess } from './state-access.ts';

/** `state pull`: the bucket wins; replaced local files are kept beside themselves. */
export function runPull(options: GlobalOptions, config: HybridConfig): Promise<number> {
  return forced(options, config, 'take-bucket');
}

/** `state push`: the state directory wins; the bucket keeps the old versions (it is versioned). */
export function runPush(options: GlobalOptions, config: HybridConfig): Promise<number> {
  return forced(options, config, 'take-local');
}

async function forced(options: GlobalOptions, config: HybridConfig, mode: 'take-bucket' | 'take-local'): Promise<number> {
  const access = await stateAccess(options, config);
  const result = await forceSync(access, mode, (message) => process.stderr.write(`warning: ${message}\n`));
  const term = terminal(options);
  const bucket = access.bucket?.name ?? '';
  if (options.output === 'json') term.out.write(`${JSON.stringify({ cluster: config.metadata.name, bucket, directory: access.state.root, ...result }, null, 2)}\n`);
  else term.out.write(describe(result, bucket, access.state.root));
  return 0;
}

function describe(result: SyncResult, bucket: string, directory: string): string {
  const lines: string[] = [];
  if (result.pulled.length) lines.push(`took from s3://${bucket}/state/: ${result.pulled.join(', ')}`);
  if (result.kept.length) lines.push(`kept the replaced local files as: ${result.kept.join(', ')}`);
  if (result.pushed.length) lines.push(`stored in s3://${bucket}/state/: ${result.pushed.join(', ')}`);
  if (lines.length === 0) lines.push(`${directory} and s3://${bucket}/state/ already agree`);
  return `${lines.join('\n')}\n`;
}
