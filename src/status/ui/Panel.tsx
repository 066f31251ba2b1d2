import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import type { Reading } from '../model.ts';
import { clock } from './format.ts';

export type Health = 'ok' | 'warn' | 'bad' | 'off';

const COLOR: Record<Health, string> = { ok: 'green', warn: 'yellow', bad: 'red', off: 'gray' };

/**
 * One bordered panel: its title, then its content; a source that failed shows its error with the
 * time of its last good reading (the content below is that reading); one not set up says why.
 */
export function Panel<T>(props: { title: string; reading: Reading<T>; health: Health; focused: boolean; width?: number | string; children?: (value: T) => ReactNode }) {
  const { title, reading, health, focused } = props;
  return (
    <Box flexDirection="column" borderStyle={focused ? 'double' : 'round'} borderColor={focused ? 'cyan' : COLOR[health]} paddingX={1} width={props.width ?? '100%'}>
      <Text bold>{title}</Text>
      {reading.unset !== undefined ? <Text color="gray">not set up: {reading.unset}</Text> : null}
      {reading.error !== undefined ? (
        <Text color="red" wrap="wrap">
          error: {reading.error} (last good: {reading.lastGoodAt ? clock(reading.lastGoodAt) : 'never'})
        </Text>
      ) : null}
      {reading.value !== undefined && props.children ? props.children(reading.value) : null}
      {reading.value === undefined && reading.error === undefined && reading.unset === undefined ? <Text color="gray">reading…</Text> : null}
    </Box>
  );
}
