import type { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/load.ts';
import { UsageError } from '../../src/core/errors.ts';
import { chooseGrafana } from '../../src/grafana/mode.ts';
import { EXAMPLE } from '../support/config.ts';

/** The example with monitoring.grafana unset (or as given), in a region. */
const config = (grafana: string | undefined, region = 'eu-central-1', extra = '') =>
  parseConfig(
    EXAMPLE.replace(/^ {2}grafana: incluster .*\n/m, grafana ? `  grafana: ${grafana}\n` : '')
      .replace('region: eu-central-1', `region: ${region}`)
      .replace(/^ {2}grafanaSignIn: identity-center .*$/m, `  grafanaSignIn: ${extra || 'identity-center'}`),
  );

/** What IAM Identity Center answers ListInstances with: the account's instances, or a failure. */
const identityCenter = (instances: number | Error) => ({
  offline: false,
  ssoAdmin: {
    send: async () => {
      if (instances instanceof Error) throw instances;
      return { Instances: Array.from({ length: instances }, (_, i) => ({ InstanceArn: `arn:aws:sso:::instance/ssoins-${i}` })) };
    },
  } as unknown as SSOAdminClient,
});

describe('where the dashboards go', () => {
  it('is what monitoring.grafana says, when it says', async () => {
    expect(await chooseGrafana(config('incluster'), identityCenter(1))).toEqual({ mode: 'incluster' });
    expect(await chooseGrafana(config('none'), identityCenter(1))).toEqual({ mode: 'none' });
    expect(await chooseGrafana(config('managed'), identityCenter(0))).toEqual({ mode: 'managed' });
  });

  it('is nowhere without monitoring', async () => {
    const off = parseConfig(EXAMPLE.replace('  enabled: true                    # false: no monitoring', '  enabled: false'));
    expect(await chooseGrafana(off, identityCenter(1))).toEqual({ mode: 'none' });
  });

  it('refuses managed in a region without Amazon Managed Grafana, naming the field (exit 2)', async () => {
    const error = await chooseGrafana(config('managed', 'af-south-1'), identityCenter(1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
    expect((error as Error).message).toMatch(/^monitoring\.grafana: managed: Amazon Managed Grafana is not offered in af-south-1 \(aws\.region\)/);
  });

  it('defaults to managed when the account has IAM Identity Center', async () => {
    expect(await chooseGrafana(config(undefined), identityCenter(1))).toEqual({ mode: 'managed' });
  });

  it('falls back to the cluster, saying why, when the account cannot have it', async () => {
    const region = await chooseGrafana(config(undefined, 'af-south-1'), identityCenter(1));
    expect(region).toMatchObject({ mode: 'incluster', note: expect.stringContaining('not offered in af-south-1') });
    const none = await chooseGrafana(config(undefined), identityCenter(0));
    expect(none).toMatchObject({ mode: 'incluster', note: expect.stringMatching(/no IAM Identity Center instance.*monitoring\.grafanaSignIn to saml/) });
    const denied = await chooseGrafana(config(undefined), identityCenter(new Error('sso:ListInstances access denied')));
    expect(denied).toMatchObject({ mode: 'incluster', note: expect.stringContaining('sso:ListInstances access denied') });
  });

  it('needs no Identity Center with SAML sign-in, and assumes it without credentials', async () => {
    expect(await chooseGrafana(config(undefined, 'eu-central-1', 'saml'), identityCenter(0))).toEqual({ mode: 'managed' });
    expect(await chooseGrafana(config(undefined), { ...identityCenter(0), offline: true })).toMatchObject({ mode: 'managed', note: expect.stringContaining('assuming IAM Identity Center') });
  });
});
