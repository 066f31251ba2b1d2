import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.ts';
import { renderCsv, renderTable } from '../../src/output/table.ts';
import { glueDatabaseName } from '../../src/telemetry/lake-catalog-names.ts';
import { inScope, partitionOf, prefixesFor } from '../../src/telemetry/lake-keys.ts';
import { queryLocalFiles } from '../../src/telemetry/lake-query.ts';
import { parseSince } from '../../src/telemetry/lake-since.ts';
import { signalsNamedIn } from '../../src/telemetry/lake-views.ts';
import { ROOT } from '../support/paths.ts';

const NOW = new Date('2026-11-30T12:34:00Z');

describe('lake keys', () => {
  it('reads the partition of data files, and nothing else', () => {
    expect(partitionOf('signal=logs/site=onprem/dt=2026-11-30/hour=07/shipper-onprem-20261130T070500Z.parquet')).toEqual({ signal: 'logs', site: 'onprem', dt: '2026-11-30', hour: 7 });
    expect(partitionOf('signal=logs/site=onprem/dt=2026-11-30/hour=07/shipper-onprem-20261130T070500Z.json.gz')).toBeUndefined();
    expect(partitionOf('_shipper/site=aws/shipper-aws.json')).toBeUndefined();
    expect(partitionOf('signal=logs/site=mars/dt=2026-11-30/hour=07/x.parquet')).toBeUndefined();
    expect(partitionOf('vpc-flow-logs/AWSLogs/aws-account-id=1/aws-service=vpcflowlogs/aws-region=eu-central-1/year=2026/month=11/day=30/hour=09/f.log.parquet')).toEqual({
      signal: 'flows',
      site: 'aws',
      dt: '2026-11-30',
      hour: 9,
    });
  });

  it('lists per site, and per day when --since is recent', () => {
    expect(prefixesFor('metrics', { sites: ['aws', 'onprem'] })).toEqual(['signal=metrics/site=aws/', 'signal=metrics/site=onprem/']);
    expect(prefixesFor('states', { sites: ['onprem'], since: new Date('2026-11-29T20:00:00Z') }, undefined, NOW)).toEqual([
      'signal=states/site=onprem/dt=2026-11-29/',
      'signal=states/site=onprem/dt=2026-11-30/',
    ]);
    expect(prefixesFor('flows', { sites: ['onprem'] })).toEqual([]);
    expect(prefixesFor('flows', { sites: ['aws'], since: new Date('2026-11-30T01:00:00Z') }, { account: '1', region: 'r' }, NOW)).toEqual([
      'vpc-flow-logs/AWSLogs/aws-account-id=1/aws-service=vpcflowlogs/aws-region=r/year=2026/month=11/day=30/',
    ]);
    // A long look back lists each site once rather than day by day.
    expect(prefixesFor('logs', { sites: ['aws'], since: new Date('2026-01-01T00:00:00Z') }, undefined, NOW)).toEqual(['signal=logs/site=aws/']);
  });

  it('keeps an hour whose end is after --since', () => {
    const scope = { sites: ['aws'] as const, since: new Date('2026-11-30T07:30:00Z') };
    expect(inScope({ signal: 'logs', site: 'aws', dt: '2026-11-30', hour: 7 }, scope)).toBe(true);
    expect(inScope({ signal: 'logs', site: 'aws', dt: '2026-11-30', hour: 6 }, scope)).toBe(false);
    expect(inScope({ signal: 'logs', site: 'onprem', dt: '2026-11-30', hour: 9 }, scope)).toBe(false);
  });
});

describe('--since', () => {
  it('takes durations and ISO times, UTC unless they say otherwise', () => {
    expect(parseSince('6h', NOW).toISOString()).toBe('2026-11-30T06:34:00.000Z');
    expect(parseSince('2d', NOW).toISOString()).toBe('2026-11-28T12:34:00.000Z');
    expect(parseSince('30m', NOW).toISOString()).toBe('2026-11-30T12:04:00.000Z');
    expect(parseSince('2026-11-29', NOW).toISOString()).toBe('2026-11-29T00:00:00.000Z');
    expect(parseSince('2026-11-29T08:00:00', NOW).toISOString()).toBe('2026-11-29T08:00:00.000Z');
    expect(parseSince('2026-11-29T08:00:00+02:00', NOW).toISOString()).toBe('2026-11-29T06:00:00.000Z');
    expect(() => parseSince('yesterday', NOW)).toThrow(UsageError);
    expect(() => parseSince('6x', NOW)).toThrow(/--since: "6x"/);
  });
});

describe('lake query helpers', () => {
  it('fetches the tables a query names, as whole words', () => {
    expect(signalsNamedIn('SELECT * FROM metrics m JOIN "logs" l ON true')).toEqual(['metrics', 'logs']);
    expect(signalsNamedIn('SELECT metrics_total FROM states')).toEqual(['states']);
    expect(signalsNamedIn('select 1')).toEqual([]);
  });

  it('names the Glue database as Glue allows', () => {
    expect(glueDatabaseName('demo-lab2')).toBe('demo_lab2_telemetry');
  });

  it('renders tables and CSV', () => {
    expect(renderTable(['site', 'n'], [['aws', 12], ['onprem', null]])).toBe('site       n\n------  ----\naws       12\nonprem  NULL\n');
    expect(renderCsv(['a', 'b'], [['x,y', 'say "hi"'], [null, 1]])).toBe('a,b\r\n"x,y","say ""hi"""\r\n,1\r\n');
  });
});

describe('the example queries of docs/DATA.md', () => {
  const examples = [...readFileSync(`${ROOT}docs/DATA.md`, 'utf8').matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]!);

  it('run against the views of an empty lake (every table exists, with its columns and types)', async () => {
    expect(examples.length).toBeGreaterThan(3);
    for (const sql of examples) {
      const result = await queryLocalFiles(sql, {}, { sites: ['aws', 'onprem'] });
      expect(result.rows, sql).toEqual([]);
    }
  });
});
