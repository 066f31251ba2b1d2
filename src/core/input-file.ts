import { constants, type Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { UsageError } from './errors.ts';

/** A config, a patch or a secrets bundle is a page or two of text; anything this big is the wrong file (or an attack). */
export const MAX_INPUT_BYTES = 1024 * 1024;

/**
 * Reads a file the user names (`label`: "config file", "patch"…), refusing at once anything that
 * is not a regular file of at most MAX_INPUT_BYTES: a FIFO would block the read forever, a
 * device would never end.
 */
export async function readInputFile(file: string, label: string): Promise<string> {
  let info: Stats;
  try {
    info = await stat(file);
  } catch (error) {
    throw unreadable(file, label, error);
  }
  refuseUnlessRegular(file, label, info);
  let handle;
  try {
    // O_NONBLOCK: should the path have become a FIFO since stat, opening it must not wait for a writer.
    handle = await open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0));
  } catch (error) {
    throw unreadable(file, label, error);
  }
  try {
    // Judge what was opened, not what the path named a moment ago.
    refuseUnlessRegular(file, label, await handle.stat());
    // Files in /proc report size 0: count while reading, never past the limit.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buffer = Buffer.alloc(64 * 1024);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > MAX_INPUT_BYTES) throw tooLarge(file, label, 'more than 1 MiB');
      chunks.push(buffer.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks).toString('utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw unreadable(file, label, error);
  } finally {
    await handle.close();
  }
}

function refuseUnlessRegular(file: string, label: string, info: Stats): void {
  const what = info.isDirectory()
    ? 'a directory'
    : info.isFIFO()
      ? 'a named pipe (FIFO)'
      : info.isCharacterDevice()
        ? 'a character device'
        : info.isBlockDevice()
          ? 'a block device'
          : info.isSocket()
            ? 'a socket'
            : info.isFile()
              ? undefined
              : 'of an unknown type';
  if (what) throw new UsageError(`${label} ${file} is ${what}, not a regular file; name the file itself`);
  if (info.size > MAX_INPUT_BYTES) throw tooLarge(file, label, `${info.size} bytes`);
}

function tooLarge(file: string, label: string, size: string): UsageError {
  return new UsageError(`${label} ${file} is ${size}; it may be at most 1 MiB (${MAX_INPUT_BYTES} bytes): is it the right file?`);
}

function unreadable(file: string, label: string, error: unknown): UsageError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new UsageError(`${label} ${file} does not exist`);
  return new UsageError(`cannot read ${label} ${file}: ${(error as Error).message}`);
}
