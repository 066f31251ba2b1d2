import { existsSync, readFileSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ResultPromise, execa } from 'execa';

/**
 * A test server's command line, so that it stops when the test process dies, however it dies:
 * a killed test run leaves no server behind holding its ports (util-linux's setpriv sets the
 * kernel's parent-death signal, which survives the exec).
 */
export function diesWithTests(command: string, args: string[]): [string, string[]] {
  return ['setpriv', ['--pdeathsig', 'TERM', '--', command, ...args]];
}

export interface ReadyProcess {
  /** Stops it by process id (SIGTERM, then SIGKILL after the grace period) and removes its folder. */
  stop(): Promise<void>;
}

/**
 * Starts one of our Go test programs, which print `ready` on stdout once they serve; its stderr
 * goes to `log`, whose tail explains a failed start. `dir` is removed when it stops.
 */
export async function startReadyProcess(
  binary: string,
  args: string[],
  options: { log: string; dir: string; readyMs: number; graceMs: number },
): Promise<ReadyProcess> {
  const name = binary.split('/').pop();
  const child: ResultPromise = execa(...diesWithTests(binary, args), { reject: false, stdin: 'ignore', stdout: 'pipe', stderr: { file: options.log }, buffer: false });
  let exited = false;
  void child.then(() => {
    exited = true;
  });
  const tail = () => (existsSync(options.log) ? readFileSync(options.log, 'utf8').slice(-3000) : '');
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not say ready in ${options.readyMs / 1000}s: ${tail()}`)), options.readyMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void child.then(() => {
      clearTimeout(timer);
      reject(new Error(`${name} exited: ${tail()}`));
    });
  });
  return {
    async stop() {
      if (child.pid && !exited) process.kill(child.pid, 'SIGTERM');
      await Promise.race([child, sleep(options.graceMs)]);
      if (!exited && child.pid) process.kill(child.pid, 'SIGKILL');
      rmSync(options.dir, { recursive: true, force: true });
    },
  };
}
