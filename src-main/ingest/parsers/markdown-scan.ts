import { MAX_MARKDOWN_DEPTH, MAX_MARKDOWN_INLINE_MARKS, MAX_MARKDOWN_INLINE_WORK, MAX_MARKDOWN_TABLE_CELLS, tooDeep, tooMany } from './limits.js';

const SPACE = 0x20;
const TAB = 0x09;
const GT = 0x3e;
const PIPE = 0x7c;
const BACKTICK = 0x60;
const TILDE = 0x7e;

/**
 * One linear pass over the lines before marked sees them, because marked's cost grows with the
 * cube of list nesting (400 levels: 4 s; 3,000 levels: out of heap) and with the square of the
 * emphasis delimiters in one paragraph (so the sum of those squares is capped for the whole file:
 * 100 paragraphs of 3,900 marks, each within the per-paragraph cap, took 6.3 s; 64 MB of them
 * would take ~8 minutes),
 * and it holds about 1 KB per table row. Each line's
 * container depth is estimated from its leading markers (`>`, list bullets and numbers) plus its
 * indentation (a nested list item needs at least two more columns than its parent), so the
 * estimate can only be high, never low.
 */
export function refuseHostileMarkdown(source: string): void {
  let cells = 0;
  let marks = 0;
  // marked's inline cost is quadratic in a paragraph's marks: the sum of their squares, over the
  // paragraphs before this one, estimates the work of the whole file.
  let work = 0;
  let fence = 0; // the fence character while inside a fenced code block
  for (let start = 0; start <= source.length; ) {
    let end = source.indexOf('\n', start);
    if (end === -1) end = source.length;
    let i = start;
    let columns = 0;
    let markers = 0;
    while (i < end) {
      const c = source.charCodeAt(i);
      if (c === SPACE) columns++;
      else if (c === TAB) columns += 4 - (columns % 4);
      else if (c === GT) markers++;
      else if ((c === 0x2d || c === 0x2a || c === 0x2b) && isGap(source, i + 1, end)) markers++;
      else if (c >= 0x30 && c <= 0x39) {
        let j = i;
        while (j < end && j - i < 9 && isDigit(source.charCodeAt(j))) j++;
        const after = source.charCodeAt(j);
        if ((after !== 0x2e && after !== 0x29) || !isGap(source, j + 1, end)) break;
        markers++;
        i = j;
      } else break;
      i++;
    }
    if (markers + Math.floor(columns / 2) > MAX_MARKDOWN_DEPTH) throw tooDeep('lists or quotes');
    if (i === end) {
      // a blank line ends the paragraph
      work += marks * marks;
      marks = 0;
    }
    const first = source.charCodeAt(i);
    if ((first === BACKTICK || first === TILDE) && source.startsWith(String.fromCharCode(first).repeat(3), i)) {
      fence = fence === 0 ? first : fence === first ? 0 : fence;
    } else if (fence === 0) {
      for (let j = i; j < end; j++) {
        const c = source.charCodeAt(j);
        if (c === PIPE) cells++;
        else if (c === 0x2a || c === 0x5f || c === TILDE || c === 0x5b) marks++;
      }
      if (marks > MAX_MARKDOWN_INLINE_MARKS) throw tooDeep('emphasis or links in one paragraph');
      if (work + marks * marks > MAX_MARKDOWN_INLINE_WORK) throw tooMany('emphasis and link marks');
      if (cells > MAX_MARKDOWN_TABLE_CELLS) throw tooMany('table cells');
    }
    start = end + 1;
  }
}

function isGap(s: string, at: number, end: number): boolean {
  if (at >= end) return true;
  const c = s.charCodeAt(at);
  return c === SPACE || c === TAB;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
