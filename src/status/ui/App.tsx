import { useApp, useInput, useWindowSize } from 'ink';
import { useEffect, useMemo, useState } from 'react';
import { type SiteName, SITES } from '../../core/config/schema.ts';
import { messageOf } from '../../core/errors.ts';
import { frameOf } from '../frame.ts';
import { PANELS, type PanelKey, type Reading, type StatusFrame } from '../model.ts';
import type { Poller } from '../poller.ts';
import { Frame } from './Frame.tsx';

/** What `enter` shows the events of. */
export interface EventTarget {
  site: SiteName;
  namespace: string;
  name: string;
  kind: 'Node' | 'Pod';
}

export interface AppProps {
  cluster: string;
  poller: Poller<PanelKey>;
  intervalS: number;
  staleAfterS: number;
  problems(frame: StatusFrame): string[];
  /** The object's last events, one line each. */
  events(target: EventTarget): Promise<string[]>;
}

/** The rows `↑↓` moves over in a panel, and what `enter` on each shows. */
function targets(frame: StatusFrame, panel: PanelKey): EventTarget[] {
  if (panel === 'aws' || panel === 'onprem') return (frame.sites[panel].value?.nodes ?? []).map((n) => ({ site: panel, namespace: 'default', name: n.name, kind: 'Node' }));
  if (panel === 'service') {
    const sites = frame.service.value?.sites ?? {};
    return SITES.flatMap((site) => {
      const s = sites[site];
      return s && !('error' in s) ? s.pods.map((p) => ({ site, namespace: 'readings', name: p.name, kind: 'Pod' as const })) : [];
    });
  }
  return [];
}

/** The live view: refreshes as each source answers, keys move between panels and rows. */
export function App(props: AppProps) {
  const { exit } = useApp();
  const { columns } = useWindowSize();
  const [readings, setReadings] = useState(() => new Map<PanelKey, Reading<unknown>>());
  const [focus, setFocus] = useState<PanelKey>('aws');
  const [selected, setSelected] = useState<number | undefined>(undefined);
  const [events, setEvents] = useState<{ title: string; lines: string[] } | undefined>(undefined);

  useEffect(() => {
    const stop = props.poller.subscribe((key, reading) => setReadings((previous) => new Map(previous).set(key, reading)));
    props.poller.start();
    return () => {
      stop();
      props.poller.stop();
    };
  }, [props.poller]);

  const frame = useMemo(() => frameOf(props.cluster, readings), [props.cluster, readings]);
  const rows = targets(frame, focus);

  useInput((input, key) => {
    if (input === 'q' || (key.ctrl && input === 'c')) {
      exit();
      return;
    }
    if (input === 'r') void props.poller.refresh();
    const move = key.tab ? (key.shift ? -1 : 1) : key.rightArrow ? 1 : key.leftArrow ? -1 : 0;
    if (move !== 0) {
      setFocus(PANELS[(PANELS.indexOf(focus) + move + PANELS.length) % PANELS.length]!);
      setSelected(undefined);
      setEvents(undefined);
    }
    if ((key.downArrow || key.upArrow) && rows.length > 0) {
      const next = selected === undefined ? 0 : (selected + (key.downArrow ? 1 : -1) + rows.length) % rows.length;
      setSelected(next);
    }
    if (key.escape) setEvents(undefined);
    if (key.return && selected !== undefined && rows[selected]) {
      const target = rows[selected];
      const title = `events of ${target.kind.toLowerCase()} ${target.name} (${target.site})`;
      setEvents({ title, lines: ['reading…'] });
      props.events(target).then(
        (lines) => setEvents({ title, lines }),
        (error: unknown) => setEvents({ title, lines: [`cannot read them: ${messageOf(error)}`] }),
      );
    }
  });

  return (
    <Frame
      frame={frame}
      width={columns}
      intervalS={props.intervalS}
      problems={props.problems(frame)}
      staleAfterS={props.staleAfterS}
      focus={focus}
      {...(selected !== undefined ? { selected } : {})}
      {...(events ? { events } : {})}
      footer
    />
  );
}
