import { createInterface } from 'node:readline/promises';
import { UsageError } from '../core/errors.ts';

/**
 * Asks on the terminal and is true only when the answer is `expected` (the cluster's name, so a
 * reflexive "y" does not do damage). Without a terminal there is nobody to ask: say to pass --yes.
 */
export async function confirmedByName(question: string, expected: string, whatWouldHappen: string, err: NodeJS.WriteStream): Promise<boolean> {
  if (!process.stdin.isTTY) throw new UsageError(`${whatWouldHappen} and there is no terminal to confirm on; pass --yes to go ahead`);
  const prompt = createInterface({ input: process.stdin, output: err });
  try {
    const answer = await prompt.question(`${question} Type the cluster name (${expected}) to confirm: `);
    return answer.trim() === expected;
  } finally {
    prompt.close();
  }
}
