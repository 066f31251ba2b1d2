import { type ConfigProblem, formatProblem } from './config/problems.ts';

/** Exit codes, part of the user-facing contract. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Something the user must fix before anything is touched: bad flags, bad config, no credentials. */
export class UsageError extends Error {
  readonly exitCode: number = EXIT.usage;
  override name = 'UsageError';
}

export class ConfigError extends UsageError {
  override name = 'ConfigError';
  readonly file: string;
  readonly problems: ConfigProblem[];
  constructor(file: string, problems: ConfigProblem[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`${file} has ${count}:\n${problems.map((p) => `  ${formatProblem(p, file)}`).join('\n')}`);
    this.file = file;
    this.problems = problems;
  }
}

/** A failure while acting on real systems: something may have changed. */
export class ActionError extends Error {
  readonly exitCode: number = EXIT.failed;
  override name = 'ActionError';
  readonly hint: string | undefined;
  constructor(message: string, hint?: string, options?: ErrorOptions) {
    super(message, options);
    this.hint = hint;
  }
}

export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError || error instanceof ActionError) return error.exitCode;
  return EXIT.failed;
}

export function messageOf(error: unknown): string {
  if (error instanceof ActionError && error.hint) return `${error.message}\n  hint: ${error.hint}`;
  if (error instanceof Error) return error.message;
  return String(error);
}
