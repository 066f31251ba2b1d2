import { Box, Text } from 'ink';
import { SITES } from '../../core/config/schema.ts';
import type { DataStatus, ServiceStatus, SiteStatus, TrafficStatus, VpnStatus } from '../model.ts';
import { age, bytes, ms, percent, sparkline } from './format.ts';
import type { Health } from './Panel.tsx';

const yes = (ok: boolean | null | undefined, label: string) => <Text color={ok ? 'green' : ok === false ? 'red' : 'gray'}>{label}</Text>;

/** A site's nodes: role, Kubernetes readiness, Talos stage and services, etcd membership. */
export function SiteBody(props: { value: SiteStatus; selected?: number }) {
  const { value } = props;
  return (
    <Box flexDirection="column">
      {value.nodes.length === 0 ? <Text color="gray">no nodes</Text> : null}
      {value.nodes.map((n, i) => (
        <Text key={n.name} inverse={props.selected === i} wrap="truncate-end">
          {n.role === 'controlplane' ? 'cp ' : 'wk '}
          {n.name} {yes(n.ready, n.ready ? 'Ready' : n.ready === false ? 'NotReady' : '?')} {n.talosError ? <Text color="red">talos: {n.talosError}</Text> : (
            <Text>
              {yes(n.stage === 'running', n.stage ?? '?')} svc {n.services ? yes(n.services.unhealthy.length === 0, `${n.services.running}/${n.services.total}`) : '?'}
              {n.role === 'controlplane' ? <Text> etcd {yes(n.etcd, n.etcd ? '✓' : '✗')}</Text> : null}
            </Text>
          )}
        </Text>
      ))}
      {value.etcdMembers !== undefined ? <Text color="gray">etcd: {value.etcdMembers} members</Text> : null}
      {value.expiring.map((c) => (
        <Text key={c.file} color="yellow">
          {c.file} certificate expires {c.expiresAt.slice(0, 10)}
        </Text>
      ))}
    </Box>
  );
}

export function siteHealth(value: SiteStatus | undefined): Health {
  if (!value) return 'off';
  const bad = value.nodes.some((n) => n.ready === false || n.talosError || (n.stage && n.stage !== 'running'));
  return bad ? 'bad' : value.expiring.length > 0 || value.nodes.some((n) => n.services?.unhealthy.length) ? 'warn' : 'ok';
}

/** Replicas per site, the image running, the active site, the last failover. */
export function ServiceBody(props: { value: ServiceStatus; selected?: number }) {
  const { value } = props;
  let row = 0;
  return (
    <Box flexDirection="column">
      {SITES.map((site) => {
        const s = value.sites[site];
        const marker = site === value.active ? '▶' : ' ';
        if (!s) return null;
        if ('error' in s) {
          return (
            <Text key={site} color="red">
              {marker} {site}: {s.error}
            </Text>
          );
        }
        return (
          <Box key={site} flexDirection="column">
            <Text wrap="truncate-end">
              {marker} {site}{site === value.active ? ' (active)' : ''}: {yes(s.ready >= s.desired, `${s.ready}/${s.desired} ready`)} <Text color="gray">{s.image.slice(0, 19)}</Text>
            </Text>
            {s.pods.map((p) => (
              <Text key={p.name} inverse={props.selected === row++} color="gray" wrap="truncate-end">
                {'   '}
                {p.name} {yes(p.ready, p.ready ? 'ready' : 'not ready')} on {p.node}
              </Text>
            ))}
          </Box>
        );
      })}
      {value.lastFailover ? (
        <Text color="gray" wrap="truncate-end">
          last failover: to {value.lastFailover.to} at {value.lastFailover.at.slice(0, 16).replace('T', ' ')}
          {value.lastFailover.seconds !== undefined ? `, ${value.lastFailover.seconds} s` : ''}
          {value.lastFailover.failedRequests !== undefined ? `, ${value.lastFailover.failedRequests} failed requests` : ''}
        </Text>
      ) : (
        <Text color="gray">no failover yet</Text>
      )}
    </Box>
  );
}

export function TrafficBody(props: { value: TrafficStatus }) {
  const { value } = props;
  return (
    <Box flexDirection="column">
      {SITES.map((site) => {
        const t = value.targets[site];
        const rate = value.rate[site];
        return (
          <Text key={site} wrap="truncate-end">
            {site.padEnd(6)} targets {t ? yes(t.healthy === t.total && t.total > 0, `${t.healthy}/${t.total}`) : '-'} {rate !== undefined ? `${rate.toFixed(1)} req/s` : '- req/s'} err{' '}
            {value.errorRatio[site] !== undefined ? yes(value.errorRatio[site]! < 0.05, percent(value.errorRatio[site]!)) : '-'} p99 {value.p99[site] !== undefined ? ms(value.p99[site]!) : '-'}{' '}
            <Text color="cyan">{sparkline(value.history[site] ?? [])}</Text>
          </Text>
        );
      })}
      {value.missing.map((m) => (
        <Text key={m} color="yellow" wrap="truncate-end">
          {m}
        </Text>
      ))}
    </Box>
  );
}

export function VpnBody(props: { value: VpnStatus }) {
  return (
    <Box flexDirection="column">
      {props.value.gateways.map((g) => (
        <Text key={g.site} wrap="truncate-end">
          {g.site.padEnd(6)} {g.address} {g.error ? <Text color="red">{g.error}</Text> : (
            <Text>
              link {yes(g.state === 'up' || g.state === 'unknown', g.state ?? '?')} handshake {g.handshakeAgeS !== undefined ? yes(g.handshakeAgeS < 180, `${age(g.handshakeAgeS)} ago`) : <Text color="gray">n/a</Text>} in {g.rxBytes !== undefined ? bytes(g.rxBytes) : '-'} out{' '}
              {g.txBytes !== undefined ? bytes(g.txBytes) : '-'}
            </Text>
          )}
        </Text>
      ))}
    </Box>
  );
}

export function DataBody(props: { value: DataStatus; staleAfterS: number }) {
  return (
    <Box flexDirection="column">
      {props.value.rows.length === 0 ? <Text color="gray">nothing in s3://{props.value.bucket} yet</Text> : null}
      {props.value.rows.map((r) => (
        <Text key={`${r.signal}/${r.site}`} wrap="truncate-end">
          {r.signal.padEnd(8)} {r.site.padEnd(6)} {String(r.objects).padStart(6)} objects, newest {r.newestAgeS !== undefined ? yes(r.newestAgeS < props.staleAfterS, `${age(r.newestAgeS)} ago`) : '-'}
        </Text>
      ))}
    </Box>
  );
}
