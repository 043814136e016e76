import type { ParseContext, ParsedDocument } from './document.js';
import { MAX_JSON_VALUES, tooMany, type TextBudget } from './limits.js';
import { ParseError, throwIfStopped } from './parse-error.js';
import { decodeText } from './text-decoding.js';

/** Deeper than any real data file; far below what the recursive renderer can take. */
export const MAX_JSON_DEPTH = 256;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * JSON becomes one "path.to.key: value" line per leaf, top-level entries separated by a blank
 * line so the chunker prefers to cut between them. Nesting is measured by a linear scan before
 * JSON.parse, so a hostile 5,000-level file is refused instead of exhausting the stack.
 */
export function parseJson(bytes: Uint8Array, ctx: ParseContext): ParsedDocument {
  const source = decodeText(bytes);
  refuseDeepNesting(source, MAX_JSON_DEPTH);
  let value: Json;
  try {
    value = JSON.parse(source) as Json;
  } catch (err) {
    throw new ParseError('CORRUPT', 'This file is not valid JSON.', { cause: err });
  }
  throwIfStopped(ctx.signal);

  const groups: string[] = [];
  const lines: string[] = [];
  const renderer: Renderer = { lines, leaves: 0, signal: ctx.signal, budget: ctx.textBudget };
  if (Array.isArray(value) && value.length > 0) {
    value.forEach((item, i) => {
      render(item, `[${i}]`, renderer);
      groups.push(lines.splice(0).join('\n'));
    });
  } else if (isObject(value) && Object.keys(value).length > 0) {
    for (const [key, item] of Object.entries(value)) {
      render(item, keySegment(key, ''), renderer);
      groups.push(lines.splice(0).join('\n'));
    }
  } else {
    render(value, '', renderer);
    groups.push(lines.join('\n'));
  }
  const text = groups.join('\n\n').trim();
  return { title: ctx.fallbackTitle, format: 'json', sections: text === '' ? [] : [{ text }] };
}

/**
 * Counts bracket depth and values (commas, colons, brackets) outside strings. Exact for valid JSON,
 * which is all that matters: anything it misjudges in invalid input is then rejected by JSON.parse.
 */
export function refuseDeepNesting(source: string, maxDepth: number, maxValues = MAX_JSON_VALUES): void {
  let depth = 0;
  let values = 0;
  let inString = false;
  for (let i = 0; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // the escaped character cannot end the string
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) {
        throw new ParseError('TOO_DEEP', `This JSON is nested more than ${maxDepth} levels deep.`);
      }
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    } else if (c === 0x2c && ++values > maxValues) {
      throw tooMany('values');
    }
  }
}

interface Renderer {
  lines: string[];
  leaves: number;
  signal: AbortSignal | undefined;
  budget: TextBudget;
}

function render(value: Json, path: string, out: Renderer): void {
  if (++out.leaves % 65536 === 0) throwIfStopped(out.signal);
  if (Array.isArray(value)) {
    if (value.length === 0) push(out, line(path, '[]'));
    value.forEach((item, i) => render(item, `${path}[${i}]`, out));
  } else if (isObject(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0) push(out, line(path, '{}'));
    for (const [key, item] of entries) render(item, keySegment(key, path), out);
  } else {
    push(out, line(path, value === null ? 'null' : String(value)));
  }
}

function isObject(value: Json): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Plain keys read as a dotted path; keys with dots, spaces or brackets are quoted so paths stay unambiguous. */
function keySegment(key: string, parent: string): string {
  if (/^[\p{L}_$][\p{L}\p{N}_$-]*$/u.test(key)) return parent === '' ? key : `${parent}.${key}`;
  return `${parent}[${JSON.stringify(key)}]`;
}

function push(out: Renderer, text: string): void {
  out.budget.spend(text.length + 1);
  out.lines.push(text);
}

function line(path: string, value: string): string {
  return path === '' ? value : `${path}: ${value}`;
}
