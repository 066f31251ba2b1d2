import { styleText } from 'node:util';

type Style = Parameters<typeof styleText>[0];

/** Colour for a stream, off when NO_COLOR is set, --no-color was given, or the stream is not a TTY. */
export function painter(stream: NodeJS.WriteStream, enabled = true) {
  return (style: Style, text: string): string => (enabled ? styleText(style, text, { stream, validateStream: true }) : text);
}

export type Paint = ReturnType<typeof painter>;

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}
