import { GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { ActionError } from '../../core/errors.ts';
import type { AwsProvider } from './provider.ts';

export interface RegistryLogin {
  /** `https://<account>.dkr.ecr.<region>.amazonaws.com` */
  url: string;
  username: string;
  password: string;
  expiresAt: Date;
}

/** A registry login for the account's ECR (valid 12 hours), as `aws ecr get-login-password` gives. */
export async function ecrLogin(provider: AwsProvider): Promise<RegistryLogin> {
  const result = await provider.clients.ecr.send(new GetAuthorizationTokenCommand({}));
  const data = result.authorizationData?.[0];
  if (!data?.authorizationToken || !data.proxyEndpoint) throw new ActionError('ECR returned no authorization token');
  const [username = '', password = ''] = Buffer.from(data.authorizationToken, 'base64').toString('utf8').split(':');
  return { url: data.proxyEndpoint, username, password, expiresAt: data.expiresAt ?? new Date(Date.now() + 12 * 3_600_000) };
}
