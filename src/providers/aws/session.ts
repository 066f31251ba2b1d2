import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { HybridConfig } from '../../core/config/schema.ts';
import { UsageError } from '../../core/errors.ts';
import { AwsClients } from './clients.ts';
import { AwsCallError } from './errors.ts';
import type { AwsProvider } from './provider.ts';
import { resolveZones } from './zones.ts';

export interface AwsConnectOptions {
  profile?: string;
  /** --region: must agree with aws.region, which is the source of truth. */
  region?: string;
  endpoint?: string;
  /** plan and --dry-run may go on without credentials, against an empty account. */
  allowOffline: boolean;
  /** Commands that place nothing (`data`) skip the zone lookup: one call less, and no ec2 permission needed. */
  skipZones?: boolean;
}

export interface AwsSession {
  provider: AwsProvider;
  zones: string[];
  /** No credentials: nothing can be observed, so the plan is against an empty account. */
  offline: boolean;
  /** The caller's ARN, for messages. */
  identity?: string;
  /** Why there are no credentials, when offline. */
  offlineReason?: string;
}

const BAD_CREDENTIALS = /^(InvalidClientTokenId|UnrecognizedClientException|ExpiredToken|ExpiredTokenException|SignatureDoesNotMatch|InvalidAccessKeyId)$/;

export const NO_CREDENTIALS_HELP =
  'set AWS_PROFILE or pass --profile (after `aws sso login` or `aws configure`), or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY';

/** Checks the region, finds credentials and the account (STS GetCallerIdentity), and the zones. */
export async function connectAws(config: HybridConfig, options: AwsConnectOptions): Promise<AwsSession> {
  const region = config.aws.region;
  if (options.region && options.region !== region) {
    throw new UsageError(`--region ${options.region} does not match aws.region ${region} in the config; the config decides the region, so drop --region or change aws.region`);
  }
  const clients = new AwsClients({ region, ...(options.profile ? { profile: options.profile } : {}), ...(options.endpoint ? { endpoint: options.endpoint } : {}) });
  const base = { cluster: config.metadata.name, region, clients, userTags: config.aws.tags };

  try {
    await clients.resolveCredentials();
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0];
    if (options.profile)
      throw new UsageError(`no AWS credentials found for profile "${options.profile}" (${reason}); check the profile in ~/.aws/config and ~/.aws/credentials, or run \`aws sso login --profile ${options.profile}\``);
    if (!options.allowOffline) throw new UsageError(`no AWS credentials found (${reason}); ${NO_CREDENTIALS_HELP}`);
    const zones = await resolveZones(config, undefined);
    return { provider: { ...base, account: '<account>' }, zones, offline: true, ...(reason ? { offlineReason: reason } : {}) };
  }

  let identity: { Account?: string; Arn?: string };
  try {
    identity = await clients.sts.send(new GetCallerIdentityCommand({}));
  } catch (error) {
    if (error instanceof AwsCallError && BAD_CREDENTIALS.test(error.code)) {
      throw new UsageError(`the AWS credentials were rejected (${error.code}); refresh them (e.g. \`aws sso login\`) or ${NO_CREDENTIALS_HELP}`);
    }
    throw error;
  }
  const provider: AwsProvider = { ...base, account: identity.Account ?? '' };
  const zones = options.skipZones ? [] : await resolveZones(config, clients);
  return { provider, zones, offline: false, ...(identity.Arn ? { identity: identity.Arn } : {}) };
}

const sessions = new Map<string, Promise<AwsSession>>();

/**
 * One session per process and settings, shared by the run lock, the state sync and the stacks:
 * one credential check and one zone lookup per command. It may be offline; `requireOnline` says
 * so the way connectAws does.
 */
export function sharedSession(config: HybridConfig, options: Omit<AwsConnectOptions, 'allowOffline'>): Promise<AwsSession> {
  const key = JSON.stringify([config.metadata.name, config.aws.region, options.profile, options.region, options.endpoint]);
  let session = sessions.get(key);
  if (!session) {
    session = connectAws(config, { ...options, allowOffline: true });
    sessions.set(key, session);
    session.catch(() => sessions.delete(key));
  }
  return session;
}

export function requireOnline(session: AwsSession): AwsSession {
  if (session.offline) throw new UsageError(`no AWS credentials found (${session.offlineReason ?? 'none in the chain'}); ${NO_CREDENTIALS_HELP}`);
  return session;
}
