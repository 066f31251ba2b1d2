import { createRequire } from 'node:module';
import { GetRolePolicyCommand, GetRoleCommand, IAMClient, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/load.ts';
import type { HybridConfig } from '../../src/core/config/schema.ts';
import { type EngineEvent, execute } from '../../src/core/engine/execute.ts';
import type { Node } from '../../src/core/engine/model.ts';
import { Observation, type Plan, planDown, planUp } from '../../src/core/engine/plan.ts';
import { type DashboardFile, dashboardHash, readDashboardFiles } from '../../src/grafana/dashboard-files.ts';
import { chooseGrafana } from '../../src/grafana/mode.ts';
import { grafanaWorkspaceKind, leftoverGrafanaWorkspaceKind } from '../../src/providers/aws/kinds/grafana-workspace.ts';
import { AwsClients } from '../../src/providers/aws/clients.ts';
import type { AwsProvider } from '../../src/providers/aws/provider.ts';
import { EXAMPLE } from '../support/config.ts';
import { type GrafanaDouble, type RecordedRequest, startGrafanaDouble } from '../support/grafana-double.ts';
import { WORKER_IP, managedGrafanaStack } from '../support/grafana-stack.ts';
import { HARNESS_KEY, type Moto, startMoto } from '../support/moto.ts';
import { CA_CERT } from '../support/tls.ts';

/**
 * Amazon Managed Grafana through `up`'s engine: IAM, the VPC and its security groups in moto, and
 * the Managed Grafana control plane and Grafana's HTTP API in a recording stand-in (no Grafana or
 * Managed Grafana can run here), reached through the real AWS SDK client and hybridctl's own HTTP
 * client. The tests assert on the requests' shape, against the SDK's model of each operation and
 * Grafana's documented HTTP API, and on what is sent when nothing changed: nothing but reads.
 */
process.env.AWS_ACCESS_KEY_ID = 'testing';
process.env.AWS_SECRET_ACCESS_KEY = 'testing';

const ACCOUNT = '123456789012';
const REGION = 'eu-central-1';
const ZONES = [`${REGION}a`, `${REGION}b`];
let moto: Moto;
let double: GrafanaDouble;
let provider: AwsProvider;
let iam: IAMClient;
let ec2: EC2Client;
let dashboards: DashboardFile[];
const savedEndpoint = process.env.AWS_ENDPOINT_URL_GRAFANA;

beforeAll(async () => {
  moto = await startMoto();
  double = await startGrafanaDouble();
  process.env.AWS_ENDPOINT_URL_GRAFANA = double.url;
  const harness = { endpoint: moto.endpoint, region: REGION, credentials: { accessKeyId: HARNESS_KEY, secretAccessKey: 'testing' }, requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: readFileSync(CA_CERT) }) }) };
  iam = new IAMClient(harness);
  ec2 = new EC2Client(harness);
  provider = { cluster: 'demo', region: REGION, account: ACCOUNT, userTags: {}, clients: new AwsClients({ region: REGION, endpoint: moto.endpoint }) };
  dashboards = await readDashboardFiles();
});
afterAll(async () => {
  if (savedEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL_GRAFANA;
  else process.env.AWS_ENDPOINT_URL_GRAFANA = savedEndpoint;
  await double?.stop();
  await moto?.stop();
});

function configWith(options: { managedPrometheus?: boolean; signIn?: 'saml' } = {}): HybridConfig {
  return parseConfig(
    EXAMPLE.replace(/^ {2}grafana: incluster .*$/m, '  grafana: managed')
      .replace(/^ {2}managedPrometheus: false .*$/m, `  managedPrometheus: ${options.managedPrometheus ?? false}`)
      .replace(/^ {2}grafanaSignIn: identity-center .*$/m, `  grafanaSignIn: ${options.signIn ?? 'identity-center'}`),
  );
}

function stack(config: HybridConfig, files: readonly DashboardFile[] = dashboards): Node<AwsProvider>[] {
  return managedGrafanaStack(config, provider, ZONES, files);
}

async function apply(plan: Plan<AwsProvider>): Promise<EngineEvent[]> {
  const events: EngineEvent[] = [];
  const outcome = await execute(plan, provider, { onEvent: (e) => events.push(e) });
  expect(outcome.failed.map((f) => String(f.error))).toEqual([]);
  return events;
}
const actions = (plan: Plan<AwsProvider>) => Object.fromEntries(plan.changes.map((c) => [c.id, c.action]));

/** The members the AWS SDK's model gives an operation's request (its schema, as the SDK serializes it). */
function sdkMembers(shape: string): string[] {
  const require = createRequire(import.meta.url);
  const schemas = require(require.resolve('@aws-sdk/client-grafana').replace(/index\.js$/, 'schemas/schemas_0.js')) as Record<string, unknown[]>;
  return schemas[`${shape}$`]![4] as string[];
}

/** Grafana's documented fields (https://grafana.com/docs/grafana/latest/developers/http_api/). */
const DATA_SOURCE_FIELDS = ['uid', 'name', 'type', 'access', 'url', 'isDefault', 'jsonData', 'basicAuth', 'user', 'database', 'secureJsonData', 'withCredentials', 'readOnly', 'orgId'];
const DASHBOARD_POST_FIELDS = ['dashboard', 'folderUid', 'message', 'overwrite'];
const FOLDER_FIELDS = ['uid', 'title', 'parentUid'];

const grafanaCalls = (requests: RecordedRequest[]) => requests.filter((r) => r.path.startsWith('/api/'));
const writes = (requests: RecordedRequest[]) => requests.filter((r) => r.method !== 'GET');

describe('Amazon Managed Grafana, reading the in-VPC Prometheus', () => {
  const config = configWith();
  let sent: RecordedRequest[];

  beforeAll(async () => {
    const events = await apply(await planUp(stack(config), new Observation(provider)));
    sent = [...double.requests];
    const log = JSON.stringify(events);
    for (const token of sent.flatMap((r) => (r.authorization?.startsWith('Bearer ') ? [r.authorization.slice(7)] : []))) expect(log).not.toContain(token);
  });

  it('creates the workspace with the role, sign-in and VPC configuration the SDK model names', async () => {
    const create = sent.find((r) => r.method === 'POST' && r.path === '/workspaces')!;
    const body = create.body as Record<string, unknown>;
    for (const key of Object.keys(body)) expect(sdkMembers('CreateWorkspaceRequest')).toContain(key);
    const role = (await iam.send(new GetRoleCommand({ RoleName: 'hybridctl-demo-grafana' }))).Role!;
    const groups = (await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: ['demo-sg-grafana'] }] }))).SecurityGroups!;
    expect(groups).toHaveLength(1);
    expect(body).toMatchObject({
      workspaceName: 'demo-dashboards',
      accountAccessType: 'CURRENT_ACCOUNT',
      permissionType: 'CUSTOMER_MANAGED',
      authenticationProviders: ['AWS_SSO'],
      workspaceRoleArn: role.Arn,
      workspaceDataSources: ['PROMETHEUS'],
      vpcConfiguration: { securityGroupIds: [groups[0]!.GroupId] },
      tags: { 'hybridctl.dev/cluster': 'demo', 'hybridctl.dev/component': 'grafana-workspace' },
    });
    expect((body.vpcConfiguration as { subnetIds: string[] }).subnetIds).toHaveLength(2);
    expect(typeof body.clientToken).toBe('string');
  });

  it('gives the workspace role no permission it does not need, trusted by Grafana for this account only', async () => {
    const role = (await iam.send(new GetRoleCommand({ RoleName: 'hybridctl-demo-grafana' }))).Role!;
    const trust = JSON.parse(decodeURIComponent(role.AssumeRolePolicyDocument!)) as { Statement: Record<string, unknown>[] };
    expect(trust.Statement).toEqual([{ Effect: 'Allow', Principal: { Service: 'grafana.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } } }]);
    expect((await iam.send(new ListRolePoliciesCommand({ RoleName: 'hybridctl-demo-grafana' }))).PolicyNames).toEqual([]);
  });

  it('lets the workspace reach the Prometheus NodePort on the nodes, from its own group only', async () => {
    const [grafanaGroup] = (await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: ['demo-sg-grafana'] }] }))).SecurityGroups!;
    for (const name of ['demo-sg-workers', 'demo-sg-controlplane']) {
      const [group] = (await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: [name] }] }))).SecurityGroups!;
      const rule = group!.IpPermissions!.find((p) => p.FromPort === 30090);
      expect(rule, name).toMatchObject({ IpProtocol: 'tcp', ToPort: 30090, UserIdGroupPairs: [expect.objectContaining({ GroupId: grafanaGroup!.GroupId })] });
      expect(rule!.IpRanges ?? []).toEqual([]);
    }
  });

  it('writes the data source, folder and dashboards with a token made for the run and deleted after it', () => {
    const tokenCall = sent.find((r) => r.method === 'POST' && r.path.endsWith('/tokens'))!;
    for (const key of Object.keys(tokenCall.body as object)) expect(sdkMembers('CreateWorkspaceServiceAccountTokenRequest')).toContain(key);
    expect(tokenCall.body).toMatchObject({ secondsToLive: 900 });
    expect(sent.find((r) => r.method === 'POST' && r.path.endsWith('/serviceaccounts'))?.body).toEqual({ name: 'hybridctl', grafanaRole: 'ADMIN' });
    const api = grafanaCalls(sent);
    expect(api.length).toBeGreaterThan(0);
    expect(new Set(api.map((r) => r.authorization?.slice(0, 12)))).toEqual(new Set(['Bearer glsa_']));
    const apiWrites = writes(api);
    const ds = apiWrites.find((r) => r.path === '/api/datasources')!.body as Record<string, unknown>;
    for (const key of Object.keys(ds)) expect(DATA_SOURCE_FIELDS).toContain(key);
    expect(ds).toEqual({ uid: 'hybridctl-prometheus', name: 'Prometheus (both sites)', type: 'prometheus', access: 'proxy', url: `http://${WORKER_IP}:30090`, isDefault: true, jsonData: { httpMethod: 'POST', timeInterval: '30s' } });
    const folder = apiWrites.find((r) => r.path === '/api/folders')!.body as Record<string, unknown>;
    for (const key of Object.keys(folder)) expect(FOLDER_FIELDS).toContain(key);
    const posted = apiWrites.filter((r) => r.path === '/api/dashboards/db').map((r) => r.body as { dashboard: { uid: string; id: unknown; tags: string[] }; folderUid: string; overwrite: boolean });
    expect(posted.map((p) => p.dashboard.uid).sort()).toEqual(dashboards.map((d) => d.uid).sort());
    for (const p of posted) {
      for (const key of Object.keys(p)) expect(DASHBOARD_POST_FIELDS).toContain(key);
      expect(p).toMatchObject({ folderUid: 'hybridctl', overwrite: true });
      expect(p.dashboard.id).toBeNull();
    }
    // The data source and folder exist before the dashboards that use them.
    const order = apiWrites.map((r) => r.path);
    expect(order.indexOf('/api/datasources')).toBeLessThan(order.indexOf('/api/dashboards/db'));
    expect(order.indexOf('/api/folders')).toBeLessThan(order.indexOf('/api/dashboards/db'));
    expect(sent.some((r) => r.method === 'DELETE' && r.path.includes('/tokens/'))).toBe(true);
    expect(double.liveTokens()).toEqual([]);
    const last = (method: string, test: (p: string) => boolean) => sent.findLastIndex((r) => r.method === method && test(r.path));
    expect(last('DELETE', (p) => p.includes('/tokens/'))).toBeGreaterThan(last('POST', (p) => p.startsWith('/api/')));
  });

  it('sends nothing but reads when nothing changed, and asks Grafana nothing', async () => {
    const before = double.requests.length;
    const plan = await planUp(stack(config), new Observation(provider));
    expect(new Set(Object.values(actions(plan)))).toEqual(new Set(['noop']));
    await apply(plan);
    const again = double.requests.slice(before);
    console.log(`no-op up: ${again.length} requests to Managed Grafana (${again.map((r) => `${r.method} ${r.path.replace(/g-[0-9a-f]+/, '<id>')}`).join(', ')})`);
    expect(writes(again)).toEqual([]);
    expect(grafanaCalls(again)).toEqual([]);
  });

  it('writes only the dashboard whose content changed, reading the rest', async () => {
    const changed = dashboards.map((d, i) => {
      if (i !== 0) return d;
      const json = d.json.replace('"refresh": "30s"', '"refresh": "1m"');
      return { ...d, json, hash: dashboardHash(json) };
    });
    expect(changed[0]!.json).not.toBe(dashboards[0]!.json);
    const before = double.requests.length;
    const plan = await planUp(stack(config, changed), new Observation(provider));
    expect(Object.entries(actions(plan)).filter(([, a]) => a !== 'noop')).toEqual([['grafana-content', 'update']]);
    await apply(plan);
    const apiWrites = writes(grafanaCalls(double.requests.slice(before)));
    expect(apiWrites.map((r) => `${r.method} ${r.path} ${(r.body as { dashboard?: { uid: string } }).dashboard?.uid ?? ''}`)).toEqual([`POST /api/dashboards/db ${changed[0]!.uid}`]);
    expect(double.liveTokens()).toEqual([]);
    // Back to the built dashboards for the tests after.
    await apply(await planUp(stack(config), new Observation(provider)));
  });

  it('looks for a workspace an earlier config made through the tagging API first, asking Grafana nothing when it finds none', async () => {
    // moto's tagging API does not index the stand-in's workspace: for it, the account has none.
    const before = double.requests.length;
    expect(await new Observation(provider).observe(leftoverGrafanaWorkspaceKind)).toEqual([]);
    expect(double.requests.length).toBe(before);
  });

  it('removes the workspace with everything else on down, and when monitoring.grafana turns away from managed', async () => {
    const plan = await planUp([], new Observation(provider), { alsoObserve: [grafanaWorkspaceKind] as never });
    expect(plan.changes.filter((c) => c.action === 'delete').map((c) => c.id)).toEqual(['grafana-workspace']);
    const down = await planDown(stack(config), new Observation(provider));
    expect(down.changes.filter((c) => c.action === 'delete').map((c) => c.id)).toEqual(expect.arrayContaining(['grafana-workspace', 'grafana-role', 'sg-grafana']));
    await apply(down);
    expect(double.requests.at(-1)).toMatchObject({ method: 'DELETE', path: expect.stringMatching(/^\/workspaces\/g-/) });
    expect(await new Observation(provider).observe(grafanaWorkspaceKind)).toEqual([]);
  });
});

describe('the default, where the account allows Amazon Managed Grafana', () => {
  it('asks IAM Identity Center (moto) for an instance, and finding one, chooses managed', async () => {
    const unset = parseConfig(EXAMPLE.replace(/^ {2}grafana: incluster .*\n/m, ''));
    expect(unset.monitoring.grafana).toBeUndefined();
    expect(await chooseGrafana(unset, { ssoAdmin: provider.clients.ssoAdmin, offline: false })).toEqual({ mode: 'managed' });
  });
});

describe('Amazon Managed Grafana, reading the managed Prometheus', () => {
  const config = configWith({ managedPrometheus: true });

  beforeEach(() => {
    double.requests.length = 0;
  });
  afterEach(async () => {
    await apply(await planDown(stack(config), new Observation(provider)));
  });

  it('signs the data source with the workspace role, which may query that workspace only, and needs no VPC', async () => {
    await apply(await planUp(stack(config), new Observation(provider)));
    const create = double.requests.find((r) => r.method === 'POST' && r.path === '/workspaces')!.body as Record<string, unknown>;
    expect(create.vpcConfiguration).toBeUndefined();
    const ds = writes(grafanaCalls(double.requests)).find((r) => r.path === '/api/datasources')!.body as { url: string; jsonData: Record<string, unknown> };
    expect(ds.url).toMatch(/^https:\/\/.+\/workspaces\/ws-[^/]+$/);
    expect(ds.jsonData).toEqual({ httpMethod: 'POST', timeInterval: '30s', sigV4Auth: true, sigV4AuthType: 'ec2_iam_role', sigV4Region: REGION });
    const policy = await iam.send(new GetRolePolicyCommand({ RoleName: 'hybridctl-demo-grafana', PolicyName: 'prometheus-query' }));
    const document = JSON.parse(decodeURIComponent(policy.PolicyDocument!)) as { Statement: { Action: string[]; Resource: string }[] };
    expect(document.Statement).toEqual([{ Sid: 'QueryMetrics', Effect: 'Allow', Action: ['aps:QueryMetrics', 'aps:GetSeries', 'aps:GetLabels', 'aps:GetMetricMetadata'], Resource: expect.stringMatching(/^arn:aws:aps:eu-central-1:123456789012:workspace\/ws-/) }]);
  });

  it('moves SAML sign-in onto an existing workspace with the authentication call', async () => {
    await apply(await planUp(stack(config), new Observation(provider)));
    const saml = configWith({ managedPrometheus: true, signIn: 'saml' });
    const plan = await planUp(stack(saml), new Observation(provider));
    expect(actions(plan)['grafana-workspace']).toBe('update');
    double.requests.length = 0;
    await apply(plan);
    const auth = double.requests.find((r) => r.path.endsWith('/authentication'))!;
    expect(auth.body).toEqual({ authenticationProviders: ['SAML'] });
    for (const key of Object.keys(auth.body as object)) expect(sdkMembers('UpdateWorkspaceAuthenticationRequest')).toContain(key);
  });
});
