import { ActionError } from '../../core/errors.ts';

/** An AWS call that failed, named by IAM action, with a hint about what to do. */
export class AwsCallError extends ActionError {
  readonly action: string;
  readonly code: string;
  constructor(action: string, code: string, message: string, hint: string | undefined, cause: unknown) {
    super(`${action} failed: ${message}${code && !message.includes(code) ? ` (${code})` : ''}`, hint, { cause });
    this.action = action;
    this.code = code;
    // SDK waiters recognise errors by name (LoadBalancerNotFoundException, say): keep the SDK's.
    this.name = (cause as Error | undefined)?.name ?? 'AwsCallError';
  }
}

const SERVICE_PREFIX: Record<string, string> = {
  EC2Client: 'ec2',
  ECRClient: 'ecr',
  ElasticLoadBalancingV2Client: 'elasticloadbalancing',
  IAMClient: 'iam',
  KMSClient: 'kms',
  Route53Client: 'route53',
  S3Client: 's3',
  STSClient: 'sts',
  ResourceGroupsTaggingAPIClient: 'tag',
};

/** S3 operations whose IAM action is named differently from the API call. */
const S3_ACTIONS: Record<string, string> = {
  HeadBucket: 'ListBucket',
  ListBuckets: 'ListAllMyBuckets',
  ListObjectVersions: 'ListBucketVersions',
  DeleteObjects: 'DeleteObjectVersion',
  GetBucketEncryption: 'GetEncryptionConfiguration',
  PutBucketEncryption: 'PutEncryptionConfiguration',
  GetPublicAccessBlock: 'GetBucketPublicAccessBlock',
  PutPublicAccessBlock: 'PutBucketPublicAccessBlock',
  GetBucketLifecycleConfiguration: 'GetLifecycleConfiguration',
  PutBucketLifecycleConfiguration: 'PutLifecycleConfiguration',
};

export function iamAction(clientName: string, commandName: string): string {
  const service = SERVICE_PREFIX[clientName] ?? clientName.replace(/Client$/, '').toLowerCase();
  const operation = commandName.replace(/Command$/, '');
  return `${service}:${service === 's3' ? (S3_ACTIONS[operation] ?? operation) : operation}`;
}

export function errorCode(error: unknown): string {
  if (error instanceof AwsCallError) return error.code;
  const e = error as { name?: string; Code?: string; code?: string } | undefined;
  return e?.Code ?? e?.name ?? e?.code ?? '';
}

/** True when the error says the thing is already gone (or never was). */
export function isNotFound(error: unknown): boolean {
  const code = errorCode(error);
  return /NotFound|NoSuch|NotExist/.test(code) || code === 'NoSuchEntity';
}

export function wrapAwsError(error: unknown, clientName: string, commandName: string, region: string, endpoint: string | undefined): unknown {
  if (error instanceof AwsCallError) return error;
  const action = iamAction(clientName, commandName);
  // S3 answers a denied GET or HEAD with a bare 403 and no body, which the SDK cannot name.
  const forbidden = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode === 403 && /^(Unknown|UnknownError|Forbidden|)$/.test(errorCode(error));
  const code = forbidden ? 'AccessDenied' : errorCode(error);
  const message = forbidden ? 'access denied (HTTP 403)' : (error as Error)?.message || code || 'unknown error';
  return new AwsCallError(action, code, message, hintFor(code, message, action, region, endpoint), error);
}

function hintFor(code: string, message: string, action: string, region: string, endpoint: string | undefined): string | undefined {
  if (/LimitExceeded|QuotaExceeded|TooManyBuckets|InsufficientAddressCapacity|MaxSpotInstanceCountExceeded|VcpuLimitExceeded|TooManyLoadBalancers|TooManyTargetGroups/.test(code))
    return `a service quota is exhausted; request an increase in the Service Quotas console for ${region}, or free capacity, then re-run`;
  if (/^(AccessDenied|AccessDeniedException|UnauthorizedOperation|AuthorizationError|Forbidden)$/.test(code)) {
    // hybridctl's buckets deny every request without TLS.
    if (action.startsWith('s3:') && endpoint?.startsWith('http:')) return `the cluster's buckets refuse requests without TLS, and ${endpoint} is plain HTTP; use an https:// endpoint`;
    return `the credentials lack permission for ${action}; grant it to the identity shown by \`aws sts get-caller-identity\``;
  }
  if (/^(InvalidClientTokenId|UnrecognizedClientException|ExpiredToken|ExpiredTokenException|SignatureDoesNotMatch|InvalidAccessKeyId|AuthFailure|RequestExpired)$/.test(code))
    return 'the AWS credentials are invalid or expired; refresh them (e.g. `aws sso login`) or pick another --profile';
  if (/^(AuthorizationHeaderMalformed|PermanentRedirect|IllegalLocationConstraintException|InvalidLocationConstraint)$/.test(code) || /wrong region|expecting '[a-z0-9-]+'/.test(message))
    return `the resource lives in another region than aws.region (${region}); check aws.region, --region and AWS_REGION`;
  if (code === 'InsufficientInstanceCapacity') return 'AWS has no capacity for this instance type in that zone right now; retry later, or choose another type or zones';
  if (code === 'Unsupported' && /instance type|not supported in/i.test(message)) return 'the instance type is not offered in that zone; choose other zones (aws.availabilityZones) or another instance type';
  if (code === 'OptInRequired') return `the account is not opted in to ${region}; enable the region in the account settings`;
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|TimeoutError/.test(`${code} ${message}`))
    return endpoint ? `cannot reach ${endpoint}; is the endpoint (AWS_ENDPOINT_URL / --endpoint-url) up?` : 'cannot reach AWS; check the network and any proxy settings';
  if (code === 'EntityAlreadyExists' || code === 'AlreadyExistsException' || code === 'InvalidGroup.Duplicate')
    return 'something with this name exists but does not carry this cluster\'s tags (or IAM path); remove or rename it, or choose another metadata.name';
  if (code === 'BucketAlreadyExists') return 'bucket names are global and another account owns this one; choose another metadata.name';
  if (code === 'HealthCheckVersionMismatch') return 'the Route 53 health check changed since hybridctl read it; re-run to compare again';
  if (code === 'DependencyViolation')
    return 'something not managed by hybridctl still uses this resource (instances, network interfaces, endpoints); remove it and re-run';
  return undefined;
}
