import { loadConfig } from '../core/config/load.ts';
import type { GlobalOptions } from './options.ts';

/** Checks the config file and says what it describes; touches nothing. */
export async function run(options: GlobalOptions): Promise<number> {
  const config = await loadConfig(options.config);
  const summary = {
    valid: true,
    cluster: config.metadata.name,
    aws: { region: config.aws.region, controlPlanes: config.aws.controlPlane.count, workers: config.aws.workers.count },
    onprem: { nodes: config.onprem.nodes.length },
  };
  if (options.output === 'json') process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  else
    process.stdout.write(
      `${options.config} is valid: cluster ${summary.cluster}, AWS ${summary.aws.region} (${summary.aws.controlPlanes} control planes, ` +
        `${summary.aws.workers} workers), on-prem ${summary.onprem.nodes} hosts\n`,
    );
  return 0;
}
