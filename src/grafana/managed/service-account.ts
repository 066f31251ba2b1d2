import {
  CreateWorkspaceServiceAccountCommand,
  CreateWorkspaceServiceAccountTokenCommand,
  DeleteWorkspaceServiceAccountTokenCommand,
  type GrafanaClient,
  ListWorkspaceServiceAccountsCommand,
} from '@aws-sdk/client-grafana';

/** The workspace's service account hybridctl writes with (Grafana role Admin); it holds no token between runs. */
export const SERVICE_ACCOUNT = 'hybridctl';
/** Long enough for one run's writes; revoked when they end anyway. */
const TOKEN_SECONDS = 900;

/**
 * Runs `work` with a token of the workspace's `hybridctl` service account (made when missing),
 * created for this run only, never written anywhere, and deleted when `work` ends, failed or not.
 */
export async function withServiceAccountToken<T>(grafana: GrafanaClient, workspaceId: string, work: (token: string) => Promise<T>): Promise<T> {
  const listed = await grafana.send(new ListWorkspaceServiceAccountsCommand({ workspaceId }));
  let accountId = listed.serviceAccounts?.find((a) => a.name === SERVICE_ACCOUNT)?.id;
  if (!accountId) {
    const created = await grafana.send(new CreateWorkspaceServiceAccountCommand({ workspaceId, name: SERVICE_ACCOUNT, grafanaRole: 'ADMIN' }));
    accountId = created.id ?? '';
  }
  const { serviceAccountToken } = await grafana.send(
    new CreateWorkspaceServiceAccountTokenCommand({ workspaceId, serviceAccountId: accountId, name: `hybridctl-up-${Date.now()}`, secondsToLive: TOKEN_SECONDS }),
  );
  try {
    return await work(serviceAccountToken?.key ?? '');
  } finally {
    await grafana.send(new DeleteWorkspaceServiceAccountTokenCommand({ workspaceId, serviceAccountId: accountId, tokenId: serviceAccountToken?.id ?? '' }));
  }
}
