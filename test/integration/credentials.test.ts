import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { awsEnv, runCli, writeConfig } from '../support/cli.ts';
import { EXAMPLE } from '../support/config.ts';
import { clients, counts, inventory } from '../support/inventory.ts';
import { type Moto, startMoto } from '../support/moto.ts';

let moto: Moto;
let config: string;

beforeAll(async () => {
  moto = await startMoto();
  config = writeConfig(EXAMPLE);
});
afterAll(async () => moto?.stop());
beforeEach(async () => moto.reset());

/** No keys in the environment, no profile files, no instance metadata. */
function noCredentials() {
  return awsEnv(moto.endpoint, { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_EC2_METADATA_DISABLED: 'true' });
}

describe('without AWS credentials', () => {
  it.each([['up'], ['down', '--yes']])('%s says so clearly, exits 2 and calls nothing', async (...args) => {
    await moto.record();
    const result = await runCli([...args, '-c', config], noCredentials());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no AWS credentials found');
    expect(result.stderr).toContain('set AWS_PROFILE or pass --profile');
    expect(await moto.calls()).toEqual([]);
  });

  it('plan and up --dry-run plan against an empty account', async () => {
    await moto.record();
    for (const args of [['plan', '--site', 'aws', '--layer', 'base'], ['up', '--site', 'aws', '--layer', 'base', '--dry-run']]) {
      const result = await runCli([...args, '-c', config], noCredentials());
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('no AWS credentials found: planning against an empty account');
      expect(result.stdout).toContain('29 to create');
      expect(result.stdout).toContain('hctl-demo-state-<account>-eu-central-1');
    }
    const json = JSON.parse((await runCli(['plan', '--site', 'aws', '--layer', 'base', '-o', 'json', '-c', config], noCredentials())).stdout);
    expect(json.sites[0].summary.create).toBe(29);
    expect(json.sites[0].notes[0]).toContain('no AWS credentials');
    expect(await moto.calls()).toEqual([]);
  });
});

describe('with a named profile', () => {
  it('uses --profile from the AWS config files', async () => {
    const env = noCredentials();
    writeFileSync(join(env.HOME ?? '', 'aws-credentials'), '[ops]\naws_access_key_id = testing\naws_secret_access_key = testing\n');
    const result = await runCli(['up', '--site', 'aws', '--layer', 'base', '--profile', 'ops', '-c', config], env);
    expect(result.code, result.stderr).toBe(0);
    expect(counts(await inventory(clients(moto.endpoint), 'demo')).vpcs).toBe(1);
  });

  it('names a profile that does not exist', async () => {
    const result = await runCli(['up', '--profile', 'nope', '-c', config], noCredentials());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no AWS credentials found for profile "nope"');
  });
});
