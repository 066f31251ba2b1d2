import type { ActContext, ObserveContext, ResourceKind } from '../../core/engine/model.ts';
import type { AwsClients } from './clients.ts';

/** What every AWS resource kind needs to know about the cluster it works for. */
export interface AwsProvider {
  cluster: string;
  region: string;
  /** The account id; `<account>` when planning without credentials. */
  account: string;
  clients: AwsClients;
  /** Extra tags from aws.tags, added to every resource. */
  userTags: Readonly<Record<string, string>>;
}

export type AwsKind<Spec, State> = ResourceKind<Spec, State, AwsProvider>;
export type AwsObserve = ObserveContext<AwsProvider>;
export type AwsAct = ActContext<AwsProvider>;
