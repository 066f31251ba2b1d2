import type { HybridConfig } from '../core/config/schema.ts';
import { ActionError } from '../core/errors.ts';
import { describeHolder, parseHolder, readLocalLock, removeLocalLock } from '../state/lock.ts';
import { confirmedByName } from './confirm.ts';
import { type GlobalOptions, terminal } from './options.ts';
import { stateAccess } from './state-access.ts';

export interface UnlockOptions extends GlobalOptions {
  yes?: boolean;
}

/**
 * Removes a run lock left by a run that is gone. Shows who holds it first and asks unless --yes;
 * it removes exactly the lock it showed, so a run that renews it meanwhile (it is alive) keeps it.
 */
export async function run(options: UnlockOptions, config: HybridConfig): Promise<number> {
  const term = terminal(options);
  const access = await stateAccess(options, config);
  const inBucket = access.bucket && (await access.bucket.exists()) ? await access.bucket.readLock() : undefined;
  const local = await readLocalLock(access.state);
  const held = [
    ...(inBucket ? [`in s3://${access.bucket?.name}/locks/run.json: ${describeHolder(parseHolder(inBucket.text))}`] : []),
    ...(local ? [`in ${access.state.root}/.lock: ${describeHolder(local)}`] : []),
  ];
  const json = (removed: boolean) => term.out.write(`${JSON.stringify({ cluster: config.metadata.name, locks: held, removed }, null, 2)}\n`);
  if (held.length === 0) {
    if (options.output === 'json') json(false);
    else term.out.write(`cluster ${config.metadata.name} is not locked\n`);
    return 0;
  }
  if (options.output === 'text') term.out.write(`the run lock is held\n${held.map((h) => `  ${h}\n`).join('')}`);
  const question = 'Remove it? A run that is still going would then share the cluster with the next one.';
  if (!options.yes && !(await confirmedByName(question, config.metadata.name, 'unlock would remove the run lock', term.err))) {
    term.err.write('aborted: the lock is still held\n');
    return 1;
  }
  if (inBucket && access.bucket) {
    const removed = await access.bucket.deleteLock(inBucket.etag);
    if (!removed && (await access.bucket.readLock())) throw new ActionError('the lock changed while you decided: its run renewed it, so it is alive; it was not removed', 'wait for that run, or run `hybridctl unlock` again');
  }
  if (local) await removeLocalLock(access.state);
  if (options.output === 'json') json(true);
  else term.out.write('removed the run lock\n');
  return 0;
}
