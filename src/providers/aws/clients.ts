import { AmpClient } from '@aws-sdk/client-amp';
import { AthenaClient } from '@aws-sdk/client-athena';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GlueClient } from '@aws-sdk/client-glue';
import { GrafanaClient } from '@aws-sdk/client-grafana';
import { IAMClient } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { Route53Client } from '@aws-sdk/client-route-53';
import { S3Client } from '@aws-sdk/client-s3';
import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { STSClient } from '@aws-sdk/client-sts';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { wrapAwsError } from './errors.ts';

export interface AwsSettings {
  region: string;
  /** Named profile from ~/.aws/config (else AWS_PROFILE, else the default chain). */
  profile?: string;
  /** Send every call here (an emulator or an S3-compatible store); else AWS_ENDPOINT_URL. */
  endpoint?: string;
}

interface ClientWithMiddleware {
  middlewareStack: {
    add(
      middleware: (next: (args: unknown) => Promise<unknown>, context: { clientName?: string; commandName?: string }) => (args: unknown) => Promise<unknown>,
      options: { step: 'initialize'; name: string },
    ): void;
  };
}

/** The AWS SDK clients hybridctl uses, built on first use with one credential chain and one endpoint. */
export class AwsClients {
  readonly region: string;
  readonly endpoint: string | undefined;
  private readonly credentials: ReturnType<typeof defaultProvider>;
  private readonly cache = new Map<string, unknown>();

  constructor(settings: AwsSettings) {
    this.region = settings.region;
    this.endpoint = settings.endpoint ?? (process.env.AWS_ENDPOINT_URL || undefined);
    this.credentials = defaultProvider(settings.profile ? { profile: settings.profile } : {});
  }

  get amp(): AmpClient {
    return this.client('amp', (c) => new AmpClient(c));
  }
  get athena(): AthenaClient {
    return this.client('athena', (c) => new AthenaClient(c));
  }
  get ec2(): EC2Client {
    return this.client('ec2', (c) => new EC2Client(c));
  }
  get ecr(): ECRClient {
    return this.client('ecr', (c) => new ECRClient(c));
  }
  get elb(): ElasticLoadBalancingV2Client {
    return this.client('elb', (c) => new ElasticLoadBalancingV2Client(c));
  }
  get glue(): GlueClient {
    return this.client('glue', (c) => new GlueClient(c));
  }
  get grafana(): GrafanaClient {
    return this.client('grafana', (c) => new GrafanaClient(c), 'GRAFANA');
  }
  get iam(): IAMClient {
    return this.client('iam', (c) => new IAMClient(c));
  }
  get kms(): KMSClient {
    return this.client('kms', (c) => new KMSClient(c));
  }
  get route53(): Route53Client {
    // Route 53 is global: its API is signed for us-east-1 whatever aws.region says.
    return this.client('route53', (c) => new Route53Client({ ...c, region: 'us-east-1' }));
  }
  get s3(): S3Client {
    // Emulators and S3-compatible stores address buckets by path, not by virtual host.
    return this.client('s3', (c) => new S3Client({ ...c, forcePathStyle: this.endpoint !== undefined }));
  }
  get ssoAdmin(): SSOAdminClient {
    return this.client('ssoAdmin', (c) => new SSOAdminClient(c), 'SSO_ADMIN');
  }
  get sts(): STSClient {
    return this.client('sts', (c) => new STSClient(c));
  }
  get tagging(): ResourceGroupsTaggingAPIClient {
    return this.client('tagging', (c) => new ResourceGroupsTaggingAPIClient(c));
  }

  /** Resolves credentials without calling AWS; throws when the chain finds none. */
  async resolveCredentials(): Promise<void> {
    await this.credentials();
  }

  /**
   * `serviceId`: the service's part of AWS's service-specific endpoint variable
   * (AWS_ENDPOINT_URL_<serviceId>), which takes precedence over the one endpoint for all.
   */
  private client<T>(name: string, make: (config: ReturnType<AwsClients['config']>) => T, serviceId?: string): T {
    let client = this.cache.get(name) as T | undefined;
    if (!client) {
      const own = serviceId ? process.env[`AWS_ENDPOINT_URL_${serviceId}`] : undefined;
      client = make(own ? { ...this.config(), endpoint: own } : this.config());
      (client as unknown as ClientWithMiddleware).middlewareStack.add(
        (next, context) => async (args) => {
          try {
            return await next(args);
          } catch (error) {
            throw wrapAwsError(error, context.clientName ?? name, context.commandName ?? 'call', this.region, this.endpoint);
          }
        },
        { step: 'initialize', name: 'hybridctlErrors' },
      );
      this.cache.set(name, client);
    }
    return client;
  }

  private config() {
    return {
      region: this.region,
      credentials: this.credentials,
      retryMode: 'adaptive',
      maxAttempts: 6,
      ...(this.endpoint ? { endpoint: this.endpoint } : {}),
    };
  }
}
