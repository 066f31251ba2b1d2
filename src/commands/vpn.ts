import type { HybridConfig } from '../core/config/schema.ts';
import { UsageError } from '../core/errors.ts';
import { checkVpnSites } from '../pipeline.ts';
import { replaceGatewayKeys } from '../vpn/key-store.ts';
import { type GlobalOptions, pipelineOptions, terminal } from './options.ts';
import { withFreshState, withRunLock } from './state-access.ts';
import { converge } from './up.ts';
import { renderVpnCheck } from './vpn-report.ts';

export interface VpnCheckCommandOptions extends GlobalOptions {
  deadline: string;
}

/** `vpn check`: the gateways' links as Talos reports them, and a probe each way over the tunnel. */
export async function runCheck(options: VpnCheckCommandOptions, config: HybridConfig): Promise<number> {
  const deadlineSeconds = Number(options.deadline);
  if (!Number.isInteger(deadlineSeconds) || deadlineSeconds < 5 || deadlineSeconds > 600) throw new UsageError(`--deadline: "${options.deadline}" is not a number of seconds from 5 to 600`);
  const term = terminal(options);
  if (!config.vpn.enabled) throw new UsageError('the VPN is turned off in this config (vpn.enabled: false): there is nothing to check');
  await withFreshState(options, config);
  const report = await checkVpnSites(config, pipelineOptions(options, false), {
    deadlineSeconds,
    report: (message) => {
      if (term.progress !== 'silent') term.err.write(`… ${message}\n`);
    },
  });
  if (!report) return 0;
  if (options.output === 'json') term.out.write(`${JSON.stringify({ cluster: config.metadata.name, ...report }, null, 2)}\n`);
  else term.out.write(renderVpnCheck(report, config.vpn.port, term.paint));
  return report.verdict === 'crossed' ? 0 : 1;
}

/** `vpn rotate`: new key pairs for both gateways, rolled out by `up`, which then proves the tunnel again. */
export async function runRotate(options: GlobalOptions, config: HybridConfig): Promise<number> {
  if (!config.vpn.enabled) throw new UsageError('the VPN is turned off in this config (vpn.enabled: false): there are no keys to rotate');
  if (options.site) throw new UsageError('--site: vpn rotate changes both gateways at once; run it without --site');
  const term = terminal(options);
  return withRunLock(options, config, 'vpn rotate', async ({ state }) => {
    const keys = await replaceGatewayKeys(state);
    if (options.output === 'text')
      term.out.write(`new WireGuard keys: aws ${keys.aws.publicKey}, on-prem ${keys.onprem.publicKey}; rolling them out to both gateways (the tunnel drops until both have them)\n`);
    return converge(options, config);
  });
}
