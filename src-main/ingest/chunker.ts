import { countTokens as countCl100k } from 'gpt-tokenizer/encoding/cl100k_base';
import type { ParsedDocument } from './parsers/index.js';

export interface ChunkOptions {
  /** Upper bound on a chunk's tokens (cl100k_base). */
  chunkTokens: number;
  /** How many tokens of the end of a chunk the next chunk of the same section repeats, at most. */
  overlapTokens: number;
}

export const DEFAULT_CHUNK_OPTIONS: Readonly<ChunkOptions> = { chunkTokens: 300, overlapTokens: 50 };

export interface Chunk {
  ordinal: number;
  /** Always exactly documentText(doc).slice(charStart, charEnd). */
  text: string;
  tokenCount: number;
  charStart: number;
  charEnd: number;
  page?: number;
  headingPath?: string[];
}

const SECTION_JOINER = '\n\n';
// A document that contains "<|endoftext|>" is quoting it: count it as text, never as a control token.
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

/** Token count with the chunker's tokenizer (cl100k_base, special tokens treated as text). */
export function countTokens(text: string): number {
  return countCl100k(text, PLAIN_TEXT);
}

/** The text every chunk's offsets refer to. */
export function documentText(doc: Pick<ParsedDocument, 'sections'>): string {
  return doc.sections.map((s) => s.text).join(SECTION_JOINER);
}

/**
 * Splits a document into chunks of at most `chunkTokens` tokens. A chunk never crosses from one
 * page or heading path to another; within a section it prefers to end at a paragraph, then a
 * sentence, then a line, then a word boundary in its last 40%, and the next chunk starts up to
 * `overlapTokens` earlier, again at the best boundary. Linear in the text: each word is tokenized
 * once on its own and each chunk once more for its exact count.
 */
export function chunkDocument(doc: Pick<ParsedDocument, 'sections'>, opts: ChunkOptions = DEFAULT_CHUNK_OPTIONS): Chunk[] {
  const { chunkTokens, overlapTokens } = opts;
  if (!Number.isSafeInteger(chunkTokens) || chunkTokens < 1) throw new RangeError('chunkTokens must be a positive integer');
  if (!Number.isSafeInteger(overlapTokens) || overlapTokens < 0 || overlapTokens >= chunkTokens) {
    throw new RangeError('overlapTokens must be an integer in [0, chunkTokens)');
  }
  const text = documentText(doc);
  const chunks: Chunk[] = [];
  let offset = 0;
  let run: Run | undefined;
  for (const section of doc.sections) {
    const start = offset;
    offset += section.text.length + SECTION_JOINER.length;
    if (run && run.page === section.page && samePath(run.headingPath, section.headingPath)) {
      run.end = start + section.text.length; // same provenance: the joiner is just a paragraph break
      continue;
    }
    if (run) chunkRun(text, run, opts, chunks);
    run = { start, end: start + section.text.length, page: section.page, headingPath: section.headingPath };
  }
  if (run) chunkRun(text, run, opts, chunks);
  return chunks;
}

interface Run {
  start: number;
  end: number;
  page: number | undefined;
  headingPath: string[] | undefined;
}

function samePath(a: string[] | undefined, b: string[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((part, i) => part === b[i]);
}

/** Where a chunk may end, weakest first. */
enum Cut {
  InsideWord = 0,
  Word = 1,
  Line = 2,
  Sentence = 3,
  Paragraph = 4,
}

/** Share of the budget a chunk must reach before we may end it early at a better boundary. */
const MIN_FILL = 0.6;

function chunkRun(text: string, run: Run, opts: ChunkOptions, out: Chunk[]): void {
  const { chunkTokens: budget, overlapTokens } = opts;
  const units = new Units(text, run.start, run.end);
  let i = 0;
  while (units.has(i)) {
    units.forgetBefore(i);
    let j = i;
    while (units.has(j) && units.tokens(i, j + 1) <= budget) j++;
    if (j === i) j = i + 1; // one unit over budget: only a single code point can be (budget < 4)
    if (units.has(j)) j = bestCut(units, i, j, budget);

    let chunkText = text.slice(units.wordStart(i), units.end(j - 1));
    let tokenCount = countTokens(chunkText);
    // Per-word counts can differ from the count of the joined text by a token here and there.
    while (tokenCount > budget && j - i > 1) {
      const target = units.tokens(i, j) - (tokenCount - budget);
      let k = j - 1;
      while (k > i + 1 && units.tokens(i, k) > target) k--;
      j = k;
      chunkText = text.slice(units.wordStart(i), units.end(j - 1));
      tokenCount = countTokens(chunkText);
    }
    const chunk: Chunk = {
      ordinal: out.length,
      text: chunkText,
      tokenCount,
      charStart: units.wordStart(i),
      charEnd: units.end(j - 1),
    };
    if (run.page !== undefined) chunk.page = run.page;
    if (run.headingPath !== undefined) chunk.headingPath = [...run.headingPath];
    out.push(chunk);

    if (!units.has(j)) break;
    i = overlapStart(units, i, j, budget, overlapTokens);
  }
}

/** The end of [i, j) moved back to the strongest boundary in the chunk's last 40%, latest on ties. */
function bestCut(units: Units, i: number, j: number, budget: number): number {
  const minTokens = Math.ceil(budget * MIN_FILL);
  let best = j;
  for (let k = j - 1; k > i && units.tokens(i, k) >= minTokens; k--) {
    if (units.cut(k) > units.cut(best)) best = k;
  }
  return best;
}

/** Where the chunk after [i, j) starts: the strongest boundary within the overlap, earliest on ties. */
function overlapStart(units: Units, i: number, j: number, budget: number, overlapTokens: number): number {
  let best = j;
  for (let s = j - 1; s > i && units.tokens(s, j) <= overlapTokens; s--) {
    if (units.cut(s) >= units.cut(best) || best === j) best = s;
  }
  // An overlap that leaves no room for the next unit would only repeat itself.
  return best < j && units.tokens(best, j + 1) > budget ? j : best;
}

const MAX_UNIT_CHARS = 64;

/**
 * The words of a run, scanned lazily and forgotten once chunked, so memory stays proportional to
 * one chunk rather than the text. A word is its leading whitespace plus up to 64 non-space
 * characters: longer runs (CJK prose, base64, hostile strings) are cut so the tokenizer's merge
 * step never sees a huge piece, preferring cuts after CJK full stops.
 */
class Units {
  private readonly text: string;
  private readonly stop: number;
  private pos: number;
  private base = 0;
  private count = 0;
  private total = 0;
  private lastEndsSentence = false;
  private starts = new Int32Array(1024);
  private ends = new Int32Array(1024);
  private cuts = new Uint8Array(1024);
  private before = new Float64Array(1024);

  constructor(text: string, start: number, stop: number) {
    this.text = text;
    this.pos = start;
    this.stop = stop;
  }

  has(k: number): boolean {
    while (k >= this.count && this.scan());
    return k < this.count;
  }

  /** Tokens of units [i, j); j may be one past the last unit scanned. */
  tokens(i: number, j: number): number {
    const upTo = j >= this.count ? this.total : this.at(this.before, j);
    return upTo - this.at(this.before, i);
  }

  wordStart(k: number): number {
    return this.at(this.starts, k);
  }

  end(k: number): number {
    return this.at(this.ends, k);
  }

  /** Strength of the boundary just before unit k. */
  cut(k: number): Cut {
    return this.at(this.cuts, k) as Cut;
  }

  forgetBefore(k: number): void {
    const drop = k - this.base;
    const keep = this.count - k;
    if (drop < 4096 || drop < keep) return; // compact rarely, so copying stays linear overall
    for (const arr of [this.starts, this.ends, this.cuts, this.before]) arr.copyWithin(0, drop, drop + keep);
    this.base = k;
  }

  private at<T extends Int32Array | Uint8Array | Float64Array>(arr: T, k: number): number {
    const v = arr[k - this.base];
    if (v === undefined || k < this.base) throw new RangeError(`unit ${k} is not in the window`);
    return v;
  }

  private scan(): boolean {
    const { text, stop } = this;
    let pos = this.pos;
    const lead = pos;
    let newlines = 0;
    let blankLine = false;
    while (pos < stop && isSpace(text.charCodeAt(pos))) {
      // Two newlines in one run of whitespace: a blank line, i.e. a paragraph break.
      if (text.charCodeAt(pos) === 0x0a && ++newlines >= 2) blankLine = true;
      pos++;
    }
    if (pos >= stop) {
      this.pos = stop;
      return false;
    }
    const start = pos;
    let end = pos;
    let cjkStop = false;
    while (end < stop && end - start < MAX_UNIT_CHARS) {
      const c = text.charCodeAt(end);
      if (isSpace(c)) break;
      end++;
      if (c === 0x3002 || c === 0xff01 || c === 0xff1f) {
        cjkStop = true; // 。！？ end a sentence even with no space after them
        break;
      }
    }
    // Never split a surrogate pair at the length cap.
    if (end < stop && end - start > 1 && isLowSurrogate(text.charCodeAt(end))) end--;

    let cut: Cut;
    if (lead === start) cut = this.lastEndsSentence ? Cut.Sentence : Cut.InsideWord;
    else if (blankLine) cut = Cut.Paragraph;
    else if (this.lastEndsSentence) cut = Cut.Sentence;
    else if (newlines > 0) cut = Cut.Line;
    else cut = Cut.Word;

    this.push(start, end, cut, countTokens(text.slice(lead, end)));
    this.lastEndsSentence = cjkStop || endsSentence(text, start, end);
    this.pos = end;
    return true;
  }

  private push(start: number, end: number, cut: Cut, tokens: number): void {
    const slot = this.count - this.base;
    if (slot === this.starts.length) this.grow();
    this.starts[slot] = start;
    this.ends[slot] = end;
    this.cuts[slot] = cut;
    this.before[slot] = this.total;
    this.total += tokens;
    this.count++;
  }

  private grow(): void {
    const size = this.starts.length * 2;
    const grown = <T extends Int32Array | Uint8Array | Float64Array>(arr: T, make: (n: number) => T): T => {
      const next = make(size);
      next.set(arr);
      return next;
    };
    this.starts = grown(this.starts, (n) => new Int32Array(n));
    this.ends = grown(this.ends, (n) => new Int32Array(n));
    this.cuts = grown(this.cuts, (n) => new Uint8Array(n));
    this.before = grown(this.before, (n) => new Float64Array(n));
  }
}

function isSpace(c: number): boolean {
  return (
    c === 0x20 ||
    (c >= 0x09 && c <= 0x0d) ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** "word." / "word?" / "word!" / "word.)" / 'word."' and the CJK full stops. */
function endsSentence(text: string, start: number, end: number): boolean {
  let k = end - 1;
  while (k > start && ')]}"\'\u2019\u201d\u00bb'.includes(text.charAt(k))) k--;
  const c = text.charCodeAt(k);
  return c === 0x2e || c === 0x21 || c === 0x3f || c === 0x2026 || c === 0x3002 || c === 0xff01 || c === 0xff1f;
}
