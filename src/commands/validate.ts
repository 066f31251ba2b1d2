import { loadConfig } from '../core/config/load.ts';
import { problemJson } from '../core/config/problems.ts';
import { ConfigError, EXIT } from '../core/errors.ts';
import type { GlobalOptions } from './options.ts';

/**
 * Checks the config file and says what it describes; touches nothing. With `-o json` an
 * invalid config is a result too: `{ file, valid: false, problems }` on stdout, exit 2.
 */
export async function run(options: GlobalOptions): Promise<number> {
  let config;
  try {
    config = await loadConfig(options.config);
  } catch (error) {
    if (options.output !== 'json' || !(error instanceof ConfigError)) throw error;
    process.stdout.write(`${JSON.stringify({ file: options.config, valid: false, problems: error.problems.map(problemJson) }, null, 2)}\n`);
    return EXIT.usage;
  }
  const summary = {
    file: options.config,
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
  return EXIT.ok;
}
