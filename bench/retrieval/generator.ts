// Seeded, deterministic "realistic" text: a word-bigram Markov chain over the Cranfield corpus's
// sentences, so the vocabulary, the Zipf word frequencies and the phrase shapes are those of real
// technical abstracts, while any amount of text can be produced from a seed.
import fs from 'node:fs';
import path from 'node:path';
import { mulberry32 } from '../../src-shared/seeded-random.js';

export const CRANFIELD_CORPUS = path.join(process.env['CRANFIELD_DIR'] ?? '/work/shared/datasets/cranfield', 'corpus.jsonl');

/** mulberry32 (src-shared/seeded-random.ts): the same stream on every machine and run. */
export const rng = mulberry32;

export function randInt(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

const END = '.';
const PUNCT = new Set([',', ';', ':']);
/** Words a query should not start or end with (a query is what a person types, not a fragment). */
const FUNCTION_WORDS = new Set('a an and are as at be by for from has have in is it its of on or that the this to was were which with'.split(' '));

/** Word-bigram transitions with multiplicities (so sampling follows the corpus frequencies). */
export class MarkovText {
  readonly #words: string[] = [];
  readonly #next: Int32Array[] = [];
  readonly #starts: Int32Array;
  readonly #content: Int32Array;

  constructor(corpusFile = CRANFIELD_CORPUS) {
    const ids = new Map<string, number>();
    const next: number[][] = [];
    const starts: number[] = [];
    const id = (w: string): number => {
      let i = ids.get(w);
      if (i === undefined) {
        i = this.#words.length;
        ids.set(w, i);
        this.#words.push(w);
        next.push([]);
      }
      return i;
    };
    const endId = id(END);
    for (const line of fs.readFileSync(corpusFile, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      const doc = JSON.parse(line) as { text?: string };
      // Cranfield is lower-case with punctuation as separate tokens ("slipstream ." / "w,").
      const tokens = String(doc.text ?? '')
        .replace(/([a-z0-9)])([,;:])(\s)/g, '$1 $2$3')
        .split(/\s+/)
        .filter((t) => t !== '');
      let prev = endId;
      for (const tok of tokens) {
        const cur = id(tok === '.' ? END : tok);
        if (prev === endId && cur !== endId) starts.push(cur);
        if (!(prev === endId && cur === endId)) next[prev]!.push(cur);
        prev = cur;
      }
      if (prev !== endId) next[prev]!.push(endId);
    }
    for (let i = 0; i < next.length; i++) {
      const n = next[i]!;
      this.#next.push(Int32Array.from(n.length > 0 ? n : [endId]));
    }
    this.#starts = Int32Array.from(starts);
    // Query words start from content words (not punctuation, numbers or function words).
    const content: number[] = [];
    for (const list of next)
      for (const w of list) {
        const word = this.#words[w]!;
        if (/^[a-z][a-z-]{2,}$/.test(word) && !FUNCTION_WORDS.has(word)) content.push(w);
      }
    this.#content = Int32Array.from(content);
  }

  get vocabulary(): number {
    return this.#words.length;
  }

  #pick(list: Int32Array, r: () => number): number {
    return list[Math.floor(r() * list.length)]!;
  }

  /** One sentence of at most `maxWords` words, capitalised, ending with a full stop. */
  sentence(r: () => number, maxWords = 60): string {
    let w = this.#pick(this.#starts, r);
    let out = '';
    let n = 0;
    while (n < maxWords) {
      const word = this.#words[w]!;
      if (word === END) break;
      if (PUNCT.has(word)) out += word;
      else out += (n === 0 ? '' : ' ') + (n === 0 ? word.charAt(0).toUpperCase() + word.slice(1) : word);
      n++;
      w = this.#pick(this.#next[w]!, r);
    }
    return `${out.replace(/[,;:]$/, '')}.`;
  }

  /** Sentences until at least `words` words. */
  words(r: () => number, words: number): string {
    const out: string[] = [];
    let n = 0;
    while (n < words) {
      const s = this.sentence(r);
      out.push(s);
      n += s.split(' ').length;
    }
    return out.join(' ');
  }

  /** Paragraphs of 3 to 7 sentences, about `words` words in all, separated by blank lines. */
  paragraphs(r: () => number, words: number): string {
    const paras: string[] = [];
    let n = 0;
    while (n < words) {
      const sentences: string[] = [];
      const count = randInt(r, 3, 7);
      for (let i = 0; i < count && n < words; i++) {
        const s = this.sentence(r);
        sentences.push(s);
        n += s.split(' ').length;
      }
      paras.push(sentences.join(' '));
    }
    return paras.join('\n\n');
  }

  /** A phrase as a person would search: `n` words following the chain from a content word. */
  phrase(r: () => number, n: number): string {
    for (let attempt = 0; ; attempt++) {
      let w = this.#pick(this.#content, r);
      const out: string[] = [];
      while (out.length < n) {
        const word = this.#words[w]!;
        if (word === END) break;
        if (!PUNCT.has(word)) out.push(word);
        w = this.#pick(this.#next[w]!, r);
      }
      while (out.length > 1 && FUNCTION_WORDS.has(out.at(-1)!)) out.pop();
      if (out.length >= Math.min(n, 3) || attempt > 50) return out.join(' ');
    }
  }

  title(r: () => number): string {
    const t = this.phrase(r, randInt(r, 4, 9));
    return t.charAt(0).toUpperCase() + t.slice(1);
  }
}

export interface GeneratedFile {
  readonly name: string;
  readonly text: string;
}

/**
 * One document of about `words` words: a .txt (title line, paragraphs) or, one time in three,
 * a .md with a title and 2 to 4 headed sections (the chunker never lets a chunk cross a heading).
 */
export function generateDocument(gen: MarkovText, r: () => number, index: number, words: number): GeneratedFile {
  const title = gen.title(r);
  const stem = `doc-${String(index).padStart(6, '0')}`;
  if (r() < 1 / 3) {
    const sections = randInt(r, 2, 4);
    const parts = [`# ${title}`];
    for (let s = 0; s < sections; s++) {
      parts.push(`## ${gen.title(r)}`);
      parts.push(gen.paragraphs(r, Math.round(words / sections)));
    }
    return { name: `${stem}.md`, text: `${parts.join('\n\n')}\n` };
  }
  return { name: `${stem}.txt`, text: `${title}\n\n${gen.paragraphs(r, words)}\n` };
}

/** Search queries of 3 to 8 words, as a user types them. */
export function generateQueries(gen: MarkovText, seed: number, count: number): string[] {
  const r = rng(seed);
  const out: string[] = [];
  const seen = new Set<string>();
  while (out.length < count) {
    const q = gen.phrase(r, randInt(r, 3, 8));
    if (q.split(' ').length < 3 || seen.has(q)) continue;
    seen.add(q);
    out.push(q);
  }
  return out;
}
