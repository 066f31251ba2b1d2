import { describe, expect, it } from 'vitest';
import { AwsCallError, iamAction, wrapAwsError } from '../../src/providers/aws/errors.ts';
import { securityGroupRulesKind } from '../../src/providers/aws/kinds/security-group-rules.ts';
import { bucketName, bucketPurpose } from '../../src/providers/aws/naming.ts';

const provider = { cluster: 'demo', account: '123456789012', region: 'eu-central-1' };

describe('AWS error hints', () => {
  const wrap = (name: string, message = 'x') => wrapAwsError(Object.assign(new Error(message), { name }), 'EC2Client', 'CreateVpcCommand', 'eu-central-1', undefined) as AwsCallError;

  it('names the IAM action of the call', () => {
    expect(iamAction('EC2Client', 'CreateVpcCommand')).toBe('ec2:CreateVpc');
    expect(iamAction('S3Client', 'PutBucketEncryptionCommand')).toBe('s3:PutEncryptionConfiguration');
    expect(iamAction('S3Client', 'HeadBucketCommand')).toBe('s3:ListBucket');
  });

  it.each([
    ['VpcLimitExceeded', 'a service quota is exhausted'],
    ['AddressLimitExceeded', 'Service Quotas console for eu-central-1'],
    ['UnauthorizedOperation', 'lack permission for ec2:CreateVpc'],
    ['AccessDenied', 'lack permission for ec2:CreateVpc'],
    ['ExpiredToken', 'invalid or expired'],
    ['AuthorizationHeaderMalformed', 'another region than aws.region (eu-central-1)'],
    ['OptInRequired', 'not opted in to eu-central-1'],
    ['DependencyViolation', 'not managed by hybridctl still uses'],
  ])('%s gets a hint', (code, hint) => {
    const error = wrap(code);
    expect(error.message).toContain('ec2:CreateVpc failed');
    expect(error.hint).toContain(hint);
    expect(error.exitCode).toBe(1);
  });
});

describe('bucket names', () => {
  it('are derived from cluster, account and region, and recognised only for this cluster', () => {
    expect(bucketName(provider, 'state')).toBe('hctl-demo-state-123456789012-eu-central-1');
    expect(bucketPurpose(provider, 'hctl-demo-telemetry-123456789012-eu-central-1')).toBe('telemetry');
    expect(bucketPurpose(provider, 'hctl-demo-2-state-123456789012-eu-central-1')).toBeUndefined();
    expect(bucketPurpose(provider, 'hctl-demo-state-999999999999-eu-central-1')).toBeUndefined();
  });

  it('fail clearly when a long name and region pass S3 limits', () => {
    expect(() => bucketName({ ...provider, cluster: 'a-very-long-cluster1', region: 'ap-southeast-77' }, 'telemetry')).toThrow('longer than S3');
  });
});

describe('security group rules diff', () => {
  const rule = (cidr: string, description = 'x') => ({ protocol: 'tcp', fromPort: 443, toPort: 443, cidr, description });
  it('compares rules one source at a time, ignoring descriptions and order', () => {
    const state = { groupId: 'sg-1', rules: [rule('10.0.0.0/8', 'old text'), rule('192.168.0.0/16')] };
    expect(securityGroupRulesKind.diff(state, { groupId: 'sg-1', rules: [rule('192.168.0.0/16'), rule('10.0.0.0/8')] }).changes).toEqual([]);
    const changed = securityGroupRulesKind.diff(state, { groupId: 'sg-1', rules: [rule('10.0.0.0/8'), rule('172.16.0.0/12')] });
    expect(changed.changes).toEqual([{ field: 'rules', from: ['tcp 443 from 192.168.0.0/16 (x)'], to: ['tcp 443 from 172.16.0.0/12 (x)'] }]);
  });
});
