import { TagResourceCommand } from '@aws-sdk/client-grafana';
import { grafanaWorkspaceKind, workspaceArn } from '../../providers/aws/kinds/grafana-workspace.ts';
import type { AwsKind } from '../../providers/aws/provider.ts';
import { type GrafanaContent, contentHash, syncContent } from '../content.ts';
import { grafanaHttp } from '../http-api.ts';
import { withServiceAccountToken } from './service-account.ts';

export const GRAFANA_CONTENT_ID = 'grafana-content';
/** The workspace tag that says which content it holds: a run whose content hashes the same asks Grafana nothing. */
const TAG_CONTENT = 'hybridctl.dev/grafana-content';

export interface GrafanaContentSpec {
  workspaceId: string;
  /** The workspace's host name, as AWS reports it. */
  endpoint: string;
  content: GrafanaContent;
}

interface GrafanaContentState {
  workspaceId: string;
  hash: string;
}

/**
 * The data source, folder and dashboards inside the managed workspace, written through Grafana's
 * HTTP API with a token made for the run and revoked after it. Which content the workspace holds
 * is a hash in the workspace's tags, so an unchanged `up` reads the tags and nothing else; a
 * changed one reads each part and writes only those that differ.
 */
export const grafanaContentKind: AwsKind<GrafanaContentSpec, GrafanaContentState> = {
  kind: 'grafana-content',

  async observe(ctx) {
    // The workspace kind's own observation, made once per run: no second listing.
    const workspaces = (await ctx.observe(grafanaWorkspaceKind)).map((f) => f.state);
    return workspaces.flatMap((w) => {
      const hash = w.tags[TAG_CONTENT];
      return hash ? [{ id: GRAFANA_CONTENT_ID, ref: w.workspaceId, state: { workspaceId: w.workspaceId, hash } }] : [];
    });
  },

  diff(state, spec) {
    const hash = contentHash(spec.content);
    if (state.workspaceId === spec.workspaceId && state.hash === hash) return { changes: [] };
    return { changes: [{ field: 'content', from: state.hash, to: hash }] };
  },

  describe(spec) {
    return { dataSource: spec.content.dataSource.url, folder: spec.content.folder.title, dashboards: spec.content.dashboards.map((d) => d.title).join(', ') };
  },

  async create(spec, ctx) {
    const grafana = ctx.provider.clients.grafana;
    const written = await withServiceAccountToken(grafana, spec.workspaceId, (token) => syncContent(grafanaHttp(`https://${spec.endpoint}`, token, ctx.signal), spec.content, (m) => ctx.report(m)));
    ctx.report(written.length > 0 ? `wrote ${written.join(', ')}` : 'the workspace already held all of it');
    const hash = contentHash(spec.content);
    await grafana.send(new TagResourceCommand({ resourceArn: workspaceArn(ctx.provider, spec.workspaceId), tags: { [TAG_CONTENT]: hash } }));
    return { id: ctx.id, ref: spec.workspaceId, state: { workspaceId: spec.workspaceId, hash } };
  },

  async update(_found, spec, _changes, ctx) {
    return this.create(spec, ctx);
  },

  // The content lives in the workspace and goes with it.
  async destroy() {},

  outputs(found) {
    return { workspaceId: found.state.workspaceId };
  },
};
