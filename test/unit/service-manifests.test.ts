import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/load.ts';
import { fill, serviceManifests } from '../../src/service/manifests.ts';
import { pullSecretObject } from '../../src/service/pull-secret.ts';
import { EXAMPLE, exampleWith } from '../support/config.ts';

const IMAGE = 'registry.example.com/readings@sha256:' + 'a'.repeat(64);
const byKind = (objects: ReturnType<typeof serviceManifests>) => Object.fromEntries(objects.map((o) => [`${o.kind}/${o.metadata.name}`, o as Record<string, any>]));

describe('service manifests', () => {
  it('run the service on both sites, scaled for the active one, with the load only there', () => {
    const config = parseConfig(EXAMPLE);
    const aws = byKind(serviceManifests(config, 'aws', { image: IMAGE }));
    const onprem = byKind(serviceManifests(config, 'onprem', { image: IMAGE }));
    expect(Object.keys(aws)).toEqual(['Namespace/readings', 'ServiceAccount/readings', 'Deployment/readings', 'PodDisruptionBudget/readings', 'Service/readings', 'Deployment/loadgen']);
    expect(aws['Deployment/readings']?.spec.replicas).toBe(2);
    expect(onprem['Deployment/readings']?.spec.replicas).toBe(1);
    expect(aws['Deployment/loadgen']?.spec.replicas).toBe(1);
    expect(onprem['Deployment/loadgen']?.spec.replicas).toBe(0);
    expect(onprem['Deployment/readings']?.spec.template.metadata.labels['hybridctl.dev/site']).toBe('onprem');
    expect(aws['Service/readings']?.spec.ports[0].nodePort).toBe(30080);
  });

  it('leave the load generator out when service.loadgen is off', () => {
    const config = parseConfig(exampleWith(['port: 51820', 'port: 51820\nservice:\n  loadgen: { enabled: false }']));
    for (const site of ['aws', 'onprem'] as const) expect(Object.keys(byKind(serviceManifests(config, site, { image: IMAGE })))).not.toContain('Deployment/loadgen');
  });

  it('follow the restricted Pod Security profile and pin the image by digest', () => {
    const objects = byKind(serviceManifests(parseConfig(exampleWith(['port: 51820', 'port: 51820\nservice:\n  activeSite: onprem\n  replicas: 3'])), 'onprem', { image: IMAGE, pullSecret: 'hybridctl-registry' }));
    expect(objects['Namespace/readings']?.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    const deployment = objects['Deployment/readings'];
    expect(deployment?.spec.replicas).toBe(3);
    const pod = deployment?.spec.template.spec;
    const container = pod.containers[0];
    expect(container.image).toBe(IMAGE);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(container.env.find((e: { name: string }) => e.name === 'SITE').valueFrom.fieldRef.fieldPath).toBe("metadata.labels['hybridctl.dev/site']");
    expect(container.env.find((e: { name: string }) => e.name === 'NODE_NAME').valueFrom.fieldRef.fieldPath).toBe('spec.nodeName');
    expect(pod.imagePullSecrets).toEqual([{ name: 'hybridctl-registry' }]);
    for (const o of Object.values(objects)) expect(o.metadata.labels['hybridctl.dev/component']).toBe('service');
  });

  it('refuse a template placeholder without a value', () => {
    expect(() => fill('a: {{ nope }}', {}, 'x')).toThrow('template x uses {{ nope }}, which has no value');
  });

  it('make a pull secret docker understands', () => {
    const secret = pullSecretObject('demo', { host: '123456789012.dkr.ecr.eu-central-1.amazonaws.com', username: 'AWS', password: 'token' }) as Record<string, any>;
    const json = JSON.parse(Buffer.from((secret.data as Record<string, string>)['.dockerconfigjson'] ?? '', 'base64').toString());
    expect(json.auths['123456789012.dkr.ecr.eu-central-1.amazonaws.com'].auth).toBe(Buffer.from('AWS:token').toString('base64'));
    expect(secret.type).toBe('kubernetes.io/dockerconfigjson');
  });
});
