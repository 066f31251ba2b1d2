import { stripVTControlCharacters } from 'node:util';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsEnv, writeConfig } from '../support/cli.ts';
import { EXAMPLE } from '../support/config.ts';
import { type Moto, startMoto } from '../support/moto.ts';
import { CLI } from '../support/paths.ts';

let moto: Moto;

beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => moto?.stop());

/** Runs the CLI on a pseudo-terminal (util-linux `script`), as a person at a terminal would. */
async function onTerminal(args: string[], columns = 120) {
  const command = [process.execPath, CLI, ...args].map((a) => `'${a}'`).join(' ');
  const env = { ...awsEnv(moto.endpoint), NO_COLOR: undefined, TERM: 'xterm-256color' };
  return execa('script', ['-qec', `stty cols ${columns} rows 40; ${command}`, '/dev/null'], { env, extendEnv: false, reject: false });
}

describe('on a terminal', () => {
  it('up draws the live task list and finishes with the summary', async () => {
    const config = writeConfig(EXAMPLE);
    const result = await onTerminal(['up', '--site', 'aws', '--layer', 'base', '-c', config]);
    expect(result.exitCode, String(result.stdout)).toBe(0);
    const screen = String(result.stdout);
    expect(screen).toContain('created vpc vpc');
    expect(screen).toContain('29 created, 0 updated, 0 replaced, 0 deleted');
    expect(screen).toMatch(/\u001b\[/); // drawn with terminal control sequences, unlike the plain log
  });

  it('falls back to plain lines on a terminal that reports no width', async () => {
    await moto.reset();
    const result = await onTerminal(['up', '--site', 'aws', '--layer', 'base', '-c', writeConfig(EXAMPLE)], 0);
    expect(result.exitCode).toBe(0);
    expect(stripVTControlCharacters(String(result.stdout))).toMatch(/✔ created vpc vpc \(vpc-[0-9a-f]+\) in \d+/);
  });
});
