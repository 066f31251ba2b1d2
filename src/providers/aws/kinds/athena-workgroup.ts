import {
  CreateWorkGroupCommand,
  DeleteWorkGroupCommand,
  GetWorkGroupCommand,
  ListTagsForResourceCommand,
  TagResourceCommand,
  UpdateWorkGroupCommand,
  type WorkGroup,
  paginateListWorkGroups,
} from '@aws-sdk/client-athena';
import { diffFields } from '../../../core/engine/diff.ts';
import { type Val, known } from '../../../core/engine/model.ts';
import { collect, deleting } from '../calls.ts';
import { errorCode } from '../errors.ts';
import { TAG_CLUSTER, type Tags } from '../naming.ts';
import type { AwsKind, AwsProvider } from '../provider.ts';
import { componentOf, missingTags, tagChange, toList, toRecord } from '../tags.ts';

export interface AthenaWorkgroupSpec {
  name: string;
  description: string;
  /** `s3://bucket/prefix/`: every query's results go here, whatever the client asks. */
  outputLocation: Val;
  /** The KMS key that encrypts the results (SSE-KMS). */
  kmsKeyArn: Val;
  tags: Tags;
}

export interface AthenaWorkgroupState {
  name: string;
  description: string;
  outputLocation: string;
  encryption: string;
  kmsKeyArn: string;
  enforced: boolean;
  metrics: boolean;
  tags: Tags;
}

/** What a workgroup holds once created or updated from the spec. */
function configured(spec: AthenaWorkgroupSpec): Omit<AthenaWorkgroupState, 'name' | 'tags'> {
  return { description: spec.description, outputLocation: known(spec.outputLocation), encryption: 'SSE_KMS', kmsKeyArn: known(spec.kmsKeyArn), enforced: true, metrics: true };
}

export function workgroupArn(provider: Pick<AwsProvider, 'region' | 'account'>, name: string): string {
  return `arn:aws:athena:${provider.region}:${provider.account}:workgroup/${name}`;
}

/**
 * An Athena workgroup whose settings override the client's (EnforceWorkGroupConfiguration): results
 * in the given S3 folder, encrypted with the cluster's key, query metrics published. Found by
 * the cluster tag, read per workgroup whose name has the cluster's prefix (ListWorkGroups has no
 * tag filter). Deleted with its saved queries and history (RecursiveDeleteOption).
 */
export const athenaWorkgroupKind: AwsKind<AthenaWorkgroupSpec, AthenaWorkgroupState> = {
  kind: 'athena-workgroup',

  async observe({ provider }) {
    const athena = provider.clients.athena;
    const pages = await collect(paginateListWorkGroups({ client: athena }, {}));
    const candidates = pages.flatMap((p) => p.WorkGroups ?? []).filter((w) => w.Name?.startsWith(`${provider.cluster}-`));
    const found = await Promise.all(
      candidates.map(async (summary) => {
        const name = summary.Name ?? '';
        const tags = toRecord((await collect(paginateListTagsForResource(provider, name))).flat());
        if (tags[TAG_CLUSTER] !== provider.cluster) return undefined;
        const { WorkGroup: group } = await athena.send(new GetWorkGroupCommand({ WorkGroup: name }));
        if (!group) return undefined;
        const state = stateOf(group, tags);
        return { id: componentOf(tags) ?? name, ref: name, state };
      }),
    );
    return found.filter((f) => f !== undefined);
  },

  diff(state, spec) {
    if (state.name !== spec.name) return { changes: [{ field: 'name', from: state.name, to: spec.name }], replace: 'an Athena workgroup cannot be renamed' };
    const changes = diffFields(state, {
      description: spec.description,
      outputLocation: spec.outputLocation,
      encryption: 'SSE_KMS',
      kmsKeyArn: spec.kmsKeyArn,
      enforced: true,
      metrics: true,
    });
    return { changes: [...changes, ...tagChange(state.tags, spec.tags)] };
  },

  describe(spec) {
    return { name: spec.name, results: spec.outputLocation, encryption: 'SSE-KMS', enforced: true };
  },

  async create(spec, ctx) {
    await ctx.provider.clients.athena.send(
      new CreateWorkGroupCommand({
        Name: spec.name,
        Description: spec.description,
        Configuration: {
          ResultConfiguration: { OutputLocation: known(spec.outputLocation), EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: known(spec.kmsKeyArn) } },
          EnforceWorkGroupConfiguration: true,
          PublishCloudWatchMetricsEnabled: true,
        },
        Tags: toList(spec.tags),
      }),
    );
    return { id: ctx.id, ref: spec.name, state: { name: spec.name, ...configured(spec), tags: spec.tags } };
  },

  async update(found, spec, changes, ctx) {
    const athena = ctx.provider.clients.athena;
    if (changes.some((c) => c.field !== 'tags'))
      await athena.send(
        new UpdateWorkGroupCommand({
          WorkGroup: found.state.name,
          Description: spec.description,
          ConfigurationUpdates: {
            ResultConfigurationUpdates: { OutputLocation: known(spec.outputLocation), EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: known(spec.kmsKeyArn) } },
            EnforceWorkGroupConfiguration: true,
            PublishCloudWatchMetricsEnabled: true,
          },
        }),
      );
    const missing = missingTags(found.state.tags, spec.tags);
    if (Object.keys(missing).length > 0) await athena.send(new TagResourceCommand({ ResourceARN: workgroupArn(ctx.provider, found.state.name), Tags: toList(missing) }));
    return { ...found, state: { ...found.state, ...configured(spec), tags: { ...found.state.tags, ...missing } } };
  },

  async destroy(found, ctx) {
    await deleting(() => ctx.provider.clients.athena.send(new DeleteWorkGroupCommand({ WorkGroup: found.state.name, RecursiveDeleteOption: true })));
  },

  outputs(found) {
    return { workgroupName: found.state.name };
  },
};

/** A workgroup's tags, page by page; one that carries none (or is gone) reads as no tags. */
async function* paginateListTagsForResource(provider: AwsProvider, name: string) {
  let token: string | undefined;
  do {
    let page;
    try {
      page = await provider.clients.athena.send(new ListTagsForResourceCommand({ ResourceARN: workgroupArn(provider, name), ...(token ? { NextToken: token } : {}) }));
    } catch (error) {
      // moto answers InvalidRequestException for a workgroup without tags; AWS, ResourceNotFound for one just deleted.
      if (/^(InvalidRequestException|ResourceNotFoundException)$/.test(errorCode(error))) return;
      throw error;
    }
    yield page.Tags ?? [];
    token = page.NextToken;
  } while (token);
}

function stateOf(group: WorkGroup, tags: Tags): AthenaWorkgroupState {
  const configuration = group.Configuration;
  const result = configuration?.ResultConfiguration;
  return {
    name: group.Name ?? '',
    description: group.Description ?? '',
    outputLocation: result?.OutputLocation ?? '',
    encryption: result?.EncryptionConfiguration?.EncryptionOption ?? '',
    kmsKeyArn: result?.EncryptionConfiguration?.KmsKey ?? '',
    enforced: configuration?.EnforceWorkGroupConfiguration ?? false,
    metrics: configuration?.PublishCloudWatchMetricsEnabled ?? false,
    tags,
  };
}
