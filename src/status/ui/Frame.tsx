import { Box, Text } from 'ink';
import { SITES } from '../../core/config/schema.ts';
import type { PanelKey, StatusFrame } from '../model.ts';
import { clock } from './format.ts';
import { Panel, type Health } from './Panel.tsx';
import { DataBody, ServiceBody, SiteBody, TrafficBody, VpnBody, siteHealth } from './panels.tsx';

export interface FrameProps {
  frame: StatusFrame;
  width: number;
  intervalS: number;
  problems: string[];
  /** The lake's signals are stale after this long. */
  staleAfterS: number;
  focus?: PanelKey;
  /** The selected row of the focused panel (a node, a pod). */
  selected?: number;
  /** The last events of the selected object, when asked for with enter. */
  events?: { title: string; lines: string[] };
  /** The key help line (the live view only). */
  footer?: boolean;
}

const readingHealth = (r: { error?: string; unset?: string }, inner: Health): Health => (r.error ? 'bad' : r.unset ? 'off' : inner);

/**
 * One screen of `status`: the two sites side by side (stacked below 100 columns), then the
 * service, traffic, VPN and data panels (two to a row from 140 columns), the problems, and the keys.
 */
export function Frame(props: FrameProps) {
  const { frame, width, focus } = props;
  const sideBySide = width >= 100;
  const wide = width >= 140;
  const half = sideBySide ? '50%' : '100%';
  const service = frame.service.value;
  const trafficHealth: Health = frame.traffic.value?.missing.length ? 'warn' : 'ok';
  return (
    <Box flexDirection="column" width={width}>
      <Text>
        <Text bold>hybridctl status</Text> · cluster {frame.cluster} · {clock(frame.at)} · every {props.intervalS} s ·{' '}
        {props.problems.length === 0 ? <Text color="green">all healthy</Text> : <Text color="red">{props.problems.length} problem{props.problems.length > 1 ? 's' : ''}</Text>}
      </Text>
      <Box flexDirection={sideBySide ? 'row' : 'column'}>
        {SITES.map((site) => (
          <Panel key={site} title={site === 'aws' ? 'AWS site' : 'on-prem site'} reading={frame.sites[site]} health={readingHealth(frame.sites[site], siteHealth(frame.sites[site].value))} focused={focus === site} width={half}>
            {(value) => <SiteBody value={value} {...(focus === site && props.selected !== undefined ? { selected: props.selected } : {})} />}
          </Panel>
        ))}
      </Box>
      <Box flexDirection={wide ? 'row' : 'column'}>
        <Panel title="Service" reading={frame.service} health={readingHealth(frame.service, 'ok')} focused={focus === 'service'} width={wide ? '50%' : '100%'}>
          {(value) => <ServiceBody value={value} {...(focus === 'service' && props.selected !== undefined ? { selected: props.selected } : {})} />}
        </Panel>
        <Panel title={`Traffic${service ? ` (active: ${service.active})` : ''}`} reading={frame.traffic} health={readingHealth(frame.traffic, trafficHealth)} focused={focus === 'traffic'} width={wide ? '50%' : '100%'}>
          {(value) => <TrafficBody value={value} />}
        </Panel>
      </Box>
      <Box flexDirection={wide ? 'row' : 'column'}>
        <Panel title="VPN" reading={frame.vpn} health={readingHealth(frame.vpn, frame.vpn.value?.gateways.some((g) => g.error) ? 'bad' : 'ok')} focused={focus === 'vpn'} width={wide ? '50%' : '100%'}>
          {(value) => <VpnBody value={value} />}
        </Panel>
        <Panel title="Data lake" reading={frame.data} health={readingHealth(frame.data, 'ok')} focused={focus === 'data'} width={wide ? '50%' : '100%'}>
          {(value) => <DataBody value={value} staleAfterS={props.staleAfterS} />}
        </Panel>
      </Box>
      {props.events ? (
        <Box flexDirection="column" borderStyle="round" borderColor="cyan" paddingX={1}>
          <Text bold>{props.events.title}</Text>
          {props.events.lines.length === 0 ? <Text color="gray">no events</Text> : props.events.lines.map((l, i) => <Text key={i} wrap="truncate-end">{l}</Text>)}
        </Box>
      ) : null}
      {props.problems.slice(0, 5).map((p) => (
        <Text key={p} color="red" wrap="truncate-end">
          ! {p}
        </Text>
      ))}
      {props.footer ? <Text color="gray">q quit · r refresh · tab/←→ panels · ↑↓ select · enter events of a node or pod</Text> : null}
    </Box>
  );
}
