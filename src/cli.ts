import { Command, CommanderError, Option } from 'commander';
import { EXIT, UsageError, exitCodeOf, messageOf } from './core/errors.ts';
import { hybridctlVersion } from './core/version.ts';

/** A command module: loaded only when its command runs, so `--help` stays fast. */
type CommandModule = { run(options: never, config: never): Promise<number> };
type Loader = () => Promise<CommandModule>;

const EXAMPLES = `
Examples:
  $ hybridctl init                      write a commented ./hybrid.yaml to start from
  $ hybridctl plan                      what would up change? (works without AWS credentials)
  $ hybridctl up                        build or converge everything; safe to re-run
  $ hybridctl up --site aws --dry-run   the same as plan, for the AWS site only
  $ hybridctl image push && hybridctl up  push the sample service's image, then deploy it to both sites
  $ hybridctl vpn check                 prove the site-to-site VPN carries traffic both ways
  $ hybridctl failover --to onprem      move the service's traffic to on-prem, make-before-break
  $ hybridctl data query "SELECT site, count(*) FROM logs GROUP BY site"   ask the data lake (DuckDB, locally)
  $ hybridctl down --yes                delete everything the cluster owns
  $ hybridctl unlock                    free the run lock of a run that was killed (asks first)

Environment:
  AWS_PROFILE, AWS_ACCESS_KEY_ID, ...   the standard AWS credential chain (or --profile)
  AWS_ENDPOINT_URL                      send AWS calls to an emulator (or --endpoint-url)
  NO_COLOR                              no colours

Exit codes: 0 done, 1 failed while acting, 2 bad usage or invalid config (nothing was touched).`;

function siteOption(): Option {
  return new Option('--site <site>', 'limit the work to one site').choices(['aws', 'onprem']);
}

function layerOption(): Option {
  return new Option('--layer <layer>', 'AWS: only the base layer (network, security groups, IAM, KMS, buckets, registry), no nodes').choices(['base']);
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('hybridctl');
  const action = (load: Loader) => async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const module = await load();
    setExit(await module.run(command.optsWithGlobals() as never, undefined as never));
  };
  // The config is checked before the command's module (and the AWS SDK behind it) is loaded:
  // a bad config is refused as fast as `validate` refuses it.
  const configured = (load: Loader) => async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const options = command.optsWithGlobals() as { config: string };
    const { loadConfig } = await import('./core/config/load.ts');
    const config = await loadConfig(options.config);
    const module = await load();
    setExit(await module.run(options as never, config as never));
  };

  program
    .description('Build and run a hybrid-cloud Talos Kubernetes setup (an AWS site and an on-prem site) from one config file.')
    .version(hybridctlVersion(), '--version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .option('-c, --config <file>', 'the cluster config', './hybrid.yaml')
    .option('--state-dir <dir>', 'where secrets, talosconfig and kubeconfigs live (default: .hybridctl/<name> beside the config; HYBRIDCTL_STATE_DIR)')
    .option('--profile <name>', 'AWS profile to use (default: AWS_PROFILE, then the default credential chain)')
    .option('--region <region>', 'AWS region; must match aws.region in the config')
    .option('--endpoint-url <url>', 'send every AWS call here, e.g. an emulator (default: AWS_ENDPOINT_URL)')
    .addOption(new Option('-o, --output <format>', 'text for people, json for scripts (csv: data query only)').choices(['text', 'json', 'csv']).default('text'))
    .option('--no-color', 'no colours (NO_COLOR=1 does the same)')
    .addHelpText('after', EXAMPLES)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .hook('preAction', (_program, actionCommand) => {
      const output = (actionCommand.optsWithGlobals() as { output?: string }).output;
      if (output === 'csv' && actionCommand.name() !== 'query')
        throw new UsageError(`-o csv: \`${actionCommand.name()}\` prints text or json; csv is for \`data query\``);
    });

  program
    .command('init')
    .description('write a commented starter config')
    .option('--name <name>', 'the cluster name (metadata.name)')
    .option('--force', 'overwrite an existing file')
    .action(action(() => import('./commands/init.ts')));

  program
    .command('validate')
    .description('check the config and say what it describes; touches nothing')
    .action(action(() => import('./commands/validate.ts')));

  program
    .command('plan')
    .description('observe what exists, then list what `up` would create, update or delete; changes nothing')
    .addOption(siteOption())
    .addOption(layerOption())
    .action(configured(() => import('./commands/plan.ts')));

  program
    .command('up')
    .description('create or converge everything; a re-run only acts on differences')
    .option('--dry-run', 'only plan (the same as `hybridctl plan`)')
    .addOption(siteOption())
    .addOption(layerOption())
    .option('--force-conflicts', 'Kubernetes: take over fields (and same-named objects) that another manager, such as kubectl, owns')
    .option(
      '--reinstall <address>',
      'on-prem: configure this host again although hybridctl configured it before (you wiped and reinstalled it); repeat for several. Without it, a configured host that no longer proves it is ours gets nothing',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .action(configured(() => import('./commands/up.ts')));

  program
    .command('down')
    .description('delete everything the cluster owns, dependants first; asks unless --yes')
    .option('-y, --yes', 'do not ask for confirmation')
    .addOption(siteOption())
    .action(configured(() => import('./commands/down.ts')));

  program
    .command('talosconfig')
    .description('write the talosconfig (a context per site), or merge it into ~/.talos/config')
    .option('--merge', 'merge into $TALOSCONFIG or ~/.talos/config instead of writing a file')
    .option('--out <file>', 'where to write it', 'talosconfig')
    .action(configured(() => import('./commands/talosconfig.ts')));

  program
    .command('kubeconfig')
    .description('write the admin kubeconfig (a context per site), or merge it into ~/.kube/config')
    .option('--merge', 'merge into $KUBECONFIG or ~/.kube/config instead of writing a file')
    .option('--out <file>', 'where to write it', 'kubeconfig')
    .addOption(siteOption())
    .action(configured(() => import('./commands/kubeconfig.ts')));

  const state = program
    .command('state')
    .description('the state directory (secrets, talosconfig, kubeconfigs) and its copy in the state bucket, which every command that changes the cluster keeps in step');
  state
    .command('pull')
    .description("make the state directory match the bucket, when both changed the same file (a conflict); replaced local files are kept as <file>.local-<time>")
    .action(configured(async () => ({ run: (await import('./commands/state.ts')).runPull })));
  state
    .command('push')
    .description("make the bucket match the state directory, when both changed the same file; the bucket is versioned, so its old copy is kept")
    .action(configured(async () => ({ run: (await import('./commands/state.ts')).runPush })));

  program
    .command('unlock')
    .description('remove the run lock left by a run that is gone (killed, or its machine stopped); shows who holds it and asks unless --yes')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(configured(() => import('./commands/unlock.ts')));

  const talos = program.command('talos').description('Talos machine configs and secrets');
  talos
    .command('gen')
    .description("write every on-prem node's machine config and a talosconfig, for applying elsewhere")
    .requiredOption('--out <dir>', 'folder to write into')
    .action(configured(() => import('./commands/talos-gen.ts')));

  program
    .command('failover')
    .description('move the service\'s public traffic to the other site: scale it up, wait until healthy, switch the load balancer (and DNS), drain, scale the old site down')
    .addOption(new Option('--to <site>', 'the site that takes the traffic').choices(['aws', 'onprem']).makeOptionMandatory())
    .option('--dry-run', 'print the steps and what each would change; change nothing')
    .option('--no-probe', 'do not send requests to the public entry while it runs')
    .option('--probe-url <url>', 'what the probe GETs (default: the load balancer on traffic.port, the health check path)')
    .option('--probe-rate <n>', 'probe requests per second', '10')
    .addHelpText(
      'after',
      `
Planned (both sites answer): nothing is switched until the target site's replicas are rolled out
and the load balancer reports them healthy; connections open on the old site finish during
traffic.drainSeconds. Unplanned (the old site does not answer): every step the answering side
allows, the rest skipped and named; exit 0 when traffic goes to the target. Interrupted, the same
command finishes the same failover. The site traffic goes to is kept in the state: up keeps it there.`,
    )
    .action(configured(() => import('./commands/failover.ts')));

  program
    .command('status')
    .description('both sites at a glance, refreshing: nodes, the service, traffic, the VPN, the data lake; reads only')
    .option('--interval <seconds>', 'refresh every this many seconds', '5')
    .option('--once', 'print one frame as plain text and exit: 0 when all is healthy, 1 otherwise')
    .addHelpText(
      'after',
      `
Examples:
  $ hybridctl status
  $ hybridctl status --once            # for scripts: exit 1 when anything is unhealthy
  $ hybridctl status -o json           # the same data, one JSON document

Panels: each site's nodes (role, Kubernetes Ready, Talos stage and services, etcd membership;
access-file certificates near expiry), the service (replicas per site, the image, the active
site, the last failover), traffic (the load balancer's healthy targets, request rate, 5xx share
and p99 from each site's Prometheus, and the last 10 minutes' rate), the VPN (each gateway's
link, last handshake, bytes each way), the data lake (newest object per signal and site).
Each panel reads on its own, with a 10 s deadline: one that fails shows its error and the time
of its last good reading while the others go on. Without AWS credentials the sites are still
read (their access files are in the state directory); the load balancer and the lake are not.

Keys: q quit, r refresh now, tab or ←→ move between panels, ↑↓ pick a node or pod, enter its
last events, esc close them. Without a terminal (or TERM=dumb) it prints a plain frame every
interval; NO_COLOR turns colour off. It changes nothing anywhere.`,
    )
    .action(configured(() => import('./commands/status.ts')));

  const vpn = program.command('vpn').description('the site-to-site VPN: prove it carries traffic, rotate its keys');
  vpn
    .command('check')
    .description("show each gateway's tunnel link as Talos reports it, and prove traffic crosses: a probe pod on each site connects to the other site's NodePort over the tunnel")
    .option('--deadline <seconds>', 'how long each probe keeps trying (a fresh tunnel needs a moment)', '45')
    .addHelpText('after', '\nExit codes: 0 traffic crosses both ways, 1 it does not (the likely causes are listed) or it could not be proven, 2 bad usage.')
    .action(configured(async () => ({ run: (await import('./commands/vpn.ts')).runCheck })));
  vpn
    .command('rotate')
    .description('make new WireGuard keys for both gateways and roll them out (as `up` does), then prove the tunnel again')
    .action(configured(async () => ({ run: (await import('./commands/vpn.ts')).runRotate })));

  const image = program.command('image').description('the sample service image: built and pushed without Docker');
  image
    .command('build')
    .description('cross-compile the service (linux/amd64, linux/arm64) and assemble an OCI image layout')
    .option('--out <dir>', 'where to write the OCI layout (default: <state dir>/image)')
    .option('--tag <tag>', 'the readable tag (default: service.image.tag, else v<version>)')
    .action(configured(async () => ({ run: (await import('./commands/image.ts')).runBuild })));
  image
    .command('push')
    .description('build, create the ECR repository if missing, and push what the registry lacks (tagged by name and by content digest)')
    .option('--out <dir>', 'where to write the OCI layout (default: <state dir>/image)')
    .option('--tag <tag>', 'the readable tag (default: service.image.tag, else v<version>)')
    .action(configured(async () => ({ run: (await import('./commands/image.ts')).runPush })));

  addDataCommands(program, configured);
  const grafana = program.command('grafana').description('the dashboards: Amazon Managed Grafana, or Grafana in the active site\'s cluster');
  grafana
    .command('open')
    .description('print where the dashboards are: the workspace URL, or the port-forward and admin password command for Grafana in the cluster')
    .addHelpText(
      'after',
      `
Examples:
  $ hybridctl grafana open
  $ hybridctl grafana open -o json

Managed (monitoring.grafana: managed): people sign in with IAM Identity Center (or SAML, with
monitoring.grafanaSignIn: saml); who may sign in is assigned in the workspace's console, not here.
In the cluster (incluster): Grafana runs on the active site; the printed kubectl command forwards
localhost:3000 to it, and the admin password is read from its Secret in the cluster.`,
    )
    .action(configured(() => import('./commands/grafana.ts')));
  return program;
}

const DATA_EXAMPLES = `
Examples:
  $ hybridctl data ls
  $ hybridctl data query "SELECT site, count(*) AS lines FROM logs GROUP BY site"
  $ hybridctl data query --since 6h --site aws "SELECT route, avg(duration_ms) FROM logs WHERE msg = 'request' GROUP BY route"
  $ hybridctl data query -o csv "SELECT ts, value FROM metrics WHERE name = 'http_requests_total'" > requests.csv
  $ hybridctl data query --engine athena "SELECT site, count(*) FROM logs WHERE dt = current_date GROUP BY site"

Tables: metrics, logs, states, flows (docs/DATA.md lists their columns); every table also has
site, dt (DATE) and hour (INTEGER) from its partition path. Times are UTC.
Output: a table; -o csv; -o json (an array of one object per row). Progress goes to stderr.

The local engine (DuckDB, the default) copies the partitions a query needs (only those of the
tables it names, pruned by --site and --since) from the telemetry bucket into a cache, then reads
the copies: no internet needed beyond S3 itself. The cache is ~/.cache/hybridctl/lake/<bucket>/
($XDG_CACHE_HOME, $HYBRIDCTL_CACHE_DIR or --cache-dir move it); an object already copied, with the
same ETag and size, is never fetched again; nothing is evicted: delete the folder to reclaim space.
--engine athena runs the SQL in the cluster's Athena workgroup (<cluster>-telemetry) on the Glue
database <cluster>_telemetry, which \`up\` registers; no data comes to this machine but the result.

Exit codes: 0 answered, 1 failed while reading (S3, Athena), 2 bad usage or SQL the engine refuses.`;

function addDataCommands(program: Command, configured: (load: Loader) => (...args: unknown[]) => Promise<void>): void {
  const data = program.command('data').description('the data lake in the telemetry bucket: metrics, logs, system states and flow logs of both sites');
  data
    .command('ls')
    .description('per signal and site: how many objects, their size, the newest one\'s age')
    .addHelpText('after', '\nExamples:\n  $ hybridctl data ls\n  $ hybridctl data ls -o json')
    .action(configured(async () => ({ run: (await import('./commands/data.ts')).runLs })));
  data
    .command('query')
    .description('answer SQL from the lake: locally with DuckDB over cached copies (default), or with Athena')
    .argument('<sql>', 'the query; tables: metrics, logs, states, flows')
    .addOption(new Option('--engine <engine>', 'where the SQL runs').choices(['duckdb', 'athena']).default('duckdb'))
    .option('--since <when>', 'only data since: a duration (30m, 6h, 2d, 1w) or a time (2026-11-30, 2026-11-30T08:00:00Z)')
    .addOption(new Option('--site <site>', "only this site's data").choices(['aws', 'onprem']))
    .option('--cache-dir <dir>', 'keep the copies in <dir>/lake/<bucket>/ (default: $HYBRIDCTL_CACHE_DIR, else $XDG_CACHE_HOME/hybridctl, else ~/.cache/hybridctl)')
    .option('--refresh', 'fetch the needed objects again even when the cache holds them')
    .option('--no-cache', 'fetch into a temporary folder, removed afterwards')
    .addHelpText('after', DATA_EXAMPLES)
    .action(async (sql: string, _options: unknown, command: Command) =>
      configured(async () => {
        const { runQuery } = await import('./commands/data.ts');
        return { run: (options: never, config: never) => runQuery(sql, options, config) };
      })(command),
    );
}

/** Runs the CLI and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram((c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv);
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help' ? EXIT.ok : EXIT.usage;
    }
    process.stderr.write(`hybridctl: ${messageOf(error)}\n`);
    if (process.env.HYBRIDCTL_DEBUG && error instanceof Error && !(error instanceof UsageError)) process.stderr.write(`${error.stack}\n`);
    return exitCodeOf(error);
  }
}
