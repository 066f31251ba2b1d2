import type { KubeClient, KubeObject } from './client.ts';
import { LABEL_CLUSTER, LABEL_COMPONENT } from './object-kind.ts';

/** Where a Secret hybridctl writes whole lives. */
export interface SecretRef {
  name: string;
  namespace: string;
}

const objectRef = (ref: SecretRef) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: ref.name, namespace: ref.namespace } });

/** The annotations of the cluster's Secret at `ref`, or undefined when there is none (or it is not the cluster's). */
export async function ownedSecretAnnotations(client: KubeClient, ref: SecretRef, cluster: string): Promise<Record<string, string> | undefined> {
  const secret = await client.get<KubeObject>(objectRef(ref));
  if (!secret || secret.metadata.labels?.[LABEL_CLUSTER] !== cluster) return undefined;
  return secret.metadata.annotations ?? {};
}

/**
 * Writes the Secret whole, labelled as the cluster's. It is hybridctl's alone, so fields another
 * manager touched (a hand-made annotation) are taken back rather than refused.
 */
export async function applyOwnedSecret(
  client: KubeClient,
  ref: SecretRef,
  owner: { cluster: string; component: string },
  content: { annotations: Record<string, string>; stringData: Record<string, string> },
): Promise<void> {
  const labels = { 'app.kubernetes.io/managed-by': 'hybridctl', [LABEL_CLUSTER]: owner.cluster, [LABEL_COMPONENT]: owner.component };
  const object = { ...objectRef(ref), metadata: { ...objectRef(ref).metadata, labels, annotations: content.annotations }, type: 'Opaque', stringData: content.stringData };
  await client.apply(object as KubeObject, true);
}

export async function deleteOwnedSecret(client: KubeClient | undefined, ref: SecretRef): Promise<void> {
  await client?.delete(objectRef(ref));
}
