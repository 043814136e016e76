import type { ReactNode } from 'react';

/** The text with the given [start, end) ranges marked; optionally cut to a window around the first one. */
export function Highlighted({ text, ranges, max }: { text: string; ranges: readonly (readonly [number, number])[]; max?: number }) {
  let from = 0;
  let to = text.length;
  if (max !== undefined && text.length > max) {
    const first = ranges[0]?.[0] ?? 0;
    from = Math.max(0, Math.min(first - Math.floor(max / 4), text.length - max));
    to = from + max;
  }
  const parts: ReactNode[] = [];
  let at = from;
  for (const [s, e] of ranges) {
    if (e <= at || s >= to) continue;
    const start = Math.max(s, at);
    parts.push(text.slice(at, start));
    parts.push(
      <mark key={start} className="hl" data-testid="hl">
        {text.slice(start, Math.min(e, to))}
      </mark>,
    );
    at = Math.min(e, to);
  }
  parts.push(text.slice(at, to));
  return (
    <>
      {from > 0 ? '…' : ''}
      {parts}
      {to < text.length ? '…' : ''}
    </>
  );
}
