import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

/**
 * Writes a process's output to `file` as a container runtime does for the kubelet (the CRI log
 * format, one `<RFC3339Nano> <stream> F <line>` per line, stamped when the line arrives), so the
 * test bed's kubelet API serves it as the pod's log. Resolves when the output ends.
 */
export async function writeCriLog(output: Readable, file: string, stream: 'stdout' | 'stderr' = 'stdout'): Promise<void> {
  const out = createWriteStream(file, { flags: 'a' });
  for await (const line of createInterface({ input: output, crlfDelay: Number.POSITIVE_INFINITY })) {
    out.write(`${new Date().toISOString()} ${stream} F ${line}\n`);
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}
