import { CreateDatabaseCommand, type Database, DeleteDatabaseCommand, GetTagsCommand, TagResourceCommand, UpdateDatabaseCommand, paginateGetDatabases } from '@aws-sdk/client-glue';
import { diffFields } from '../../../core/engine/diff.ts';
import { collect, deleting } from '../calls.ts';
import { TAG_CLUSTER, TAG_COMPONENT, type Tags } from '../naming.ts';
import type { AwsKind, AwsProvider } from '../provider.ts';
import { missingTags, tagChange } from '../tags.ts';

export interface GlueDatabaseSpec {
  name: string;
  description: string;
  tags: Tags;
}

export interface GlueDatabaseState {
  name: string;
  description: string;
  /** The database's parameters: the cluster and component marks among them. */
  parameters: Readonly<Record<string, string>>;
  tags: Tags;
}

export function glueDatabaseArn(provider: Pick<AwsProvider, 'region' | 'account'>, name: string): string {
  return `arn:aws:glue:${provider.region}:${provider.account}:database/${name}`;
}

/**
 * The marks a Glue object carries in its parameters: Glue lists databases and tables with their
 * parameters but without their tags, so one listing finds what the cluster owns (as the cluster
 * and component tags do for resources whose listings filter by tag).
 */
export function ownershipParameters(cluster: string, id: string): Record<string, string> {
  return { [TAG_CLUSTER]: cluster, [TAG_COMPONENT]: id };
}

/**
 * A Glue Data Catalog database. Owned by its parameters (found in one GetDatabases listing) and
 * tagged as well (TagResource on its ARN) for the tools that look for tags. Deleting it deletes
 * the tables in it.
 */
export const glueDatabaseKind: AwsKind<GlueDatabaseSpec, GlueDatabaseState> = {
  kind: 'glue-database',

  async observe({ provider }) {
    const glue = provider.clients.glue;
    const pages = await collect(paginateGetDatabases({ client: glue }, {}));
    const owned = pages.flatMap((p) => p.DatabaseList ?? []).filter((d) => d.Parameters?.[TAG_CLUSTER] === provider.cluster);
    return Promise.all(
      owned.map(async (d) => {
        const { Tags: tags = {} } = await glue.send(new GetTagsCommand({ ResourceArn: glueDatabaseArn(provider, d.Name ?? '') }));
        const state = stateOf(d, tags);
        return { id: state.parameters[TAG_COMPONENT] ?? state.name, ref: state.name, state };
      }),
    );
  },

  diff(state, spec) {
    if (state.name !== spec.name) return { changes: [{ field: 'name', from: state.name, to: spec.name }], replace: 'a Glue database cannot be renamed' };
    return { changes: [...diffFields(state, { description: spec.description }), ...tagChange(state.tags, spec.tags)] };
  },

  describe(spec) {
    return { name: spec.name };
  },

  async create(spec, ctx) {
    const parameters = ownershipParameters(ctx.provider.cluster, ctx.id);
    await ctx.provider.clients.glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: spec.name, Description: spec.description, Parameters: parameters }, Tags: { ...spec.tags } }));
    return { id: ctx.id, ref: spec.name, state: { name: spec.name, description: spec.description, parameters, tags: spec.tags } };
  },

  async update(found, spec, changes, ctx) {
    const glue = ctx.provider.clients.glue;
    const parameters = { ...found.state.parameters, ...ownershipParameters(ctx.provider.cluster, found.id) };
    if (changes.some((c) => c.field === 'description'))
      await glue.send(new UpdateDatabaseCommand({ Name: found.state.name, DatabaseInput: { Name: found.state.name, Description: spec.description, Parameters: parameters } }));
    const missing = missingTags(found.state.tags, spec.tags);
    if (Object.keys(missing).length > 0) await glue.send(new TagResourceCommand({ ResourceArn: glueDatabaseArn(ctx.provider, found.state.name), TagsToAdd: missing }));
    return { ...found, state: { ...found.state, description: spec.description, parameters, tags: { ...found.state.tags, ...missing } } };
  },

  async destroy(found, ctx) {
    await deleting(() => ctx.provider.clients.glue.send(new DeleteDatabaseCommand({ Name: found.state.name })));
  },

  outputs(found) {
    return { databaseName: found.state.name };
  },
};

function stateOf(database: Database, tags: Tags): GlueDatabaseState {
  return { name: database.Name ?? '', description: database.Description ?? '', parameters: database.Parameters ?? {}, tags };
}
