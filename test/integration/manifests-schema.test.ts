import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/load.ts';
import { defaultKubernetesVersion } from '../../src/core/config/talos-versions.ts';
import { serviceManifests } from '../../src/service/manifests.ts';
import { pullSecretObject } from '../../src/service/pull-secret.ts';
import { telemetryManifests } from '../../src/telemetry/manifests.ts';
import { shipperManifests } from '../../src/telemetry/shipper-manifests.ts';
import { readDashboardFiles } from '../../src/grafana/dashboard-files.ts';
import { prometheusDataSource } from '../../src/grafana/data-source.ts';
import { inclusterManifests } from '../../src/grafana/incluster/manifests.ts';
import { EXAMPLE } from '../support/config.ts';
import { VENV } from '../support/paths.ts';

/** Every rendered manifest against the Kubernetes OpenAPI schemas (PyPI kubernetes-validate), strict. */
const config = parseConfig(EXAMPLE);
const schemaVersion = `${defaultKubernetesVersion(config.talos.version).split('.').slice(0, 2).join('.')}.0`;

async function validate(objects: unknown[]): Promise<{ code: number; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'hybridctl-manifests-'));
  const files = objects.map((object, i) => {
    const file = join(dir, `${i}.yaml`);
    writeFileSync(file, stringify(object));
    return file;
  });
  const result = await execa(`${VENV}/bin/kubernetes-validate`, ['--strict', '-k', schemaVersion, ...files], { reject: false, all: true });
  return { code: result.exitCode ?? -1, output: String(result.all) };
}

describe(`service manifests against the Kubernetes ${schemaVersion} schemas`, () => {
  it.each(['aws', 'onprem'] as const)('all validate for the %s site', async (site) => {
    const objects = [...serviceManifests(config, site, { image: 'registry.example.com/readings@sha256:' + 'b'.repeat(64), pullSecret: 'hybridctl-registry' }), pullSecretObject('demo', { host: 'registry.example.com', username: 'u', password: 'p' })];
    const result = await validate(objects);
    expect(result.code, result.output).toBe(0);
    expect(result.output).not.toMatch(/ERROR|WARN/);
  });

  it('a wrong field is caught (the check can fail)', async () => {
    const [deployment] = serviceManifests(config, 'aws', { image: 'x' }).filter((o) => o.kind === 'Deployment');
    const broken = { ...deployment, spec: { ...(deployment?.spec as object), replica: 3 } };
    const result = await validate([broken]);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('replica');
  });
});

describe(`telemetry manifests against the Kubernetes ${schemaVersion} schemas`, () => {
  it.each(['aws', 'onprem'] as const)('all validate for the %s site', async (site) => {
    const objects = telemetryManifests(config, site);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
      [
        'ClusterRole/hybridctl-kube-state-metrics',
        'ClusterRole/hybridctl-prometheus',
        'ClusterRoleBinding/hybridctl-kube-state-metrics',
        'ClusterRoleBinding/hybridctl-prometheus',
        'ConfigMap/prometheus-config',
        'ConfigMap/prometheus-rules',
        'DaemonSet/node-exporter',
        'DaemonSet/wireguard-exporter',
        'Deployment/kube-state-metrics',
        'Deployment/prometheus',
        'Namespace/monitoring',
        'Service/kube-state-metrics',
        'Service/prometheus',
        'ServiceAccount/kube-state-metrics',
        'ServiceAccount/prometheus',
      ].sort(),
    );
    const result = await validate(objects);
    expect(result.code, result.output).toBe(0);
    expect(result.output).not.toMatch(/ERROR|WARN/);
    // The WireGuard exporter runs on this site's gateway only, with NET_ADMIN and nothing else.
    const exporter = objects.find((o) => o.metadata.name === 'wireguard-exporter') as unknown as { spec: { template: { spec: { nodeSelector: object; containers: { securityContext: object }[] } } } };
    expect(exporter.spec.template.spec.nodeSelector).toEqual({ 'hybridctl.dev/vpn-gateway': site });
    expect(exporter.spec.template.spec.containers[0]!.securityContext).toMatchObject({ capabilities: { drop: ['ALL'], add: ['NET_ADMIN'] }, allowPrivilegeEscalation: false });
  });

  it.each(['aws', 'onprem'] as const)("the %s shipper's objects validate; on AWS it uses the node role, on-prem its key Secret", async (site) => {
    const target = { image: 'registry.example.com/readings@sha256:' + 'b'.repeat(64), pullSecret: 'hybridctl-registry', bucket: 'hctl-demo-telemetry-123456789012-eu-central-1', region: 'eu-central-1', withServiceLogs: true };
    const objects = shipperManifests(config, site, target);
    expect(objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort()).toEqual(
      [
        'ClusterRole//hybridctl-shipper',
        'ClusterRoleBinding//hybridctl-shipper',
        'Deployment/monitoring/shipper',
        'Role/readings/hybridctl-shipper-logs',
        'RoleBinding/readings/hybridctl-shipper-logs',
        'Service/monitoring/shipper',
        'ServiceAccount/monitoring/shipper',
      ].sort(),
    );
    const result = await validate(objects);
    expect(result.code, result.output).toBe(0);
    expect(result.output).not.toMatch(/ERROR|WARN/);
    const pod = (objects.find((o) => o.kind === 'Deployment') as unknown as { spec: { template: { spec: Record<string, any> } } }).spec.template.spec;
    expect(pod.hostNetwork).toBe(site === 'aws' ? true : undefined);
    expect(pod.containers[0].envFrom).toEqual(site === 'aws' ? undefined : [{ secretRef: { name: 'shipper-aws-credentials' } }]);
    expect(pod.containers[0].env).toContainEqual({ name: 'SHIPPER_BUCKET', value: target.bucket });
    expect(pod.imagePullSecrets).toEqual([{ name: 'hybridctl-registry' }]);
  });

  it('keeps Prometheus data on a claim of monitoring.storage\'s class when set, else with the pod', async () => {
    const stored = parseConfig(EXAMPLE.replace('  retention: 15d', '  retention: 15d\n  storage: { storageClass: local-path, sizeGiB: 50 }'));
    const objects = telemetryManifests(stored, 'onprem');
    const claim = objects.find((o) => o.kind === 'PersistentVolumeClaim') as { metadata: { name: string }; spec: Record<string, unknown> } | undefined;
    expect(claim?.spec).toEqual({ storageClassName: 'local-path', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '50Gi' } } });
    const volumes = (objects: unknown[]) =>
      (objects.find((o) => (o as { kind: string; metadata: { name: string } }).kind === 'Deployment' && (o as { metadata: { name: string } }).metadata.name === 'prometheus') as { spec: { template: { spec: { volumes: { name: string }[] } } } }).spec.template.spec.volumes.find((v) => v.name === 'data');
    expect(volumes(objects)).toEqual({ name: 'data', persistentVolumeClaim: { claimName: 'prometheus-data' } });
    expect(volumes(telemetryManifests(config, 'onprem'))).toEqual({ name: 'data', emptyDir: { sizeLimit: '20Gi' } });
    const result = await validate(objects);
    expect(result.code, result.output).toBe(0);
  });

  it('the AWS Prometheus takes remote writes on its NodePort; the on-prem one sends them and takes none', () => {
    const prometheus = (site: 'aws' | 'onprem') => {
      const objects = telemetryManifests(config, site);
      const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'prometheus') as { spec: { template: { spec: { containers: { args: string[] }[] } } } } | undefined;
      const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'prometheus') as { spec: { type: string; ports: { nodePort?: number }[] } } | undefined;
      const configMap = objects.find((o) => o.metadata.name === 'prometheus-config') as { data: Record<string, string> } | undefined;
      return { args: deployment?.spec.template.spec.containers[0]?.args ?? [], service: service?.spec, config: configMap?.data['prometheus.yml'] ?? '' };
    };
    expect(prometheus('aws').args).toContain('--web.enable-remote-write-receiver');
    expect(prometheus('aws').service).toMatchObject({ type: 'NodePort', ports: [{ nodePort: 30090 }] });
    expect(prometheus('onprem').args).not.toContain('--web.enable-remote-write-receiver');
    expect(prometheus('onprem').service?.type).toBe('ClusterIP');
    expect(prometheus('onprem').config).toContain('url: http://10.255.255.253:30090/api/v1/write');
  });
});

describe(`Grafana's in-cluster manifests against the Kubernetes ${schemaVersion} schemas`, () => {
  it.each([
    ['aws', 'the in-cluster Prometheus', { url: 'http://prometheus.monitoring.svc:9090' }],
    ['onprem', 'a managed Prometheus, signed with the site key', { url: 'https://aps-workspaces.eu-central-1.amazonaws.com/workspaces/ws-1/', sigv4: { region: 'eu-central-1', authType: 'default' as const } }],
  ] as const)('all validate for the %s site reading %s', async (site, _what, target) => {
    const dashboards = await readDashboardFiles();
    const objects = inclusterManifests(config, site, prometheusDataSource(target), dashboards);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
      ['ConfigMap/grafana-dashboard-providers', 'ConfigMap/grafana-dashboards', 'ConfigMap/grafana-datasources', 'Deployment/grafana', 'Service/grafana', 'ServiceAccount/grafana'].sort(),
    );
    const result = await validate(objects);
    expect(result.code, result.output).toBe(0);
    expect(result.output).not.toMatch(/ERROR|WARN/);
    const pod = (objects.find((o) => o.kind === 'Deployment') as unknown as { spec: { template: { spec: { containers: { envFrom?: unknown[] }[] } } } }).spec.template.spec;
    expect(pod.containers[0]!.envFrom !== undefined).toBe('sigv4' in target);
  });
});
