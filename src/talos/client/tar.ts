import { Parser } from 'tar';

/** One file's contents from a tar (gzip'd or not), or undefined if it is not there. */
export function extractFile(archive: Buffer, name: string): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    let found: Buffer | undefined;
    const parser = new Parser({
      onReadEntry(entry) {
        if (entry.path.replace(/^\.\//, '') !== name) return void entry.resume();
        const chunks: Buffer[] = [];
        entry.on('data', (chunk: Buffer) => chunks.push(chunk));
        entry.on('end', () => {
          found = Buffer.concat(chunks);
        });
      },
    });
    parser.on('error', reject);
    parser.on('end', () => resolve(found));
    parser.end(archive);
  });
}
