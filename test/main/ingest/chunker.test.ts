import { countTokens as cl100k } from 'gpt-tokenizer/encoding/cl100k_base';
import { describe, expect, it } from 'vitest';
import { type Chunk, chunkDocument, documentText } from '../../../src-main/ingest/chunker.js';
import type { ParsedSection } from '../../../src-main/ingest/parsers/index.js';

// Counted independently of the chunker, with special tokens taken as text.
const tokens = (text: string) => cl100k(text, { disallowedSpecial: new Set() });

const WORDS = (
  'the client asked for a revised budget before the quarterly review and the team agreed to send ' +
  'figures on monday while legal checks the contract terms for the new supplier in lyon'
).split(' ');

/** Deterministic prose: sentences of 6..20 words, so no sentence comes near the overlap size. */
function prose(seed: number, sentences: number): string {
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const out: string[] = [];
  for (let s = 0; s < sentences; s++) {
    const words = Array.from({ length: 6 + Math.floor(next() * 15) }, () => WORDS[Math.floor(next() * WORDS.length)]);
    const sentence = words.join(' ');
    out.push(sentence.charAt(0).toUpperCase() + sentence.slice(1) + '.');
  }
  return out.join(' ');
}

function paragraphs(seed: number, count: number, sentencesEach: number): string {
  return Array.from({ length: count }, (_, i) => prose(seed + i, sentencesEach)).join('\n\n');
}

/** [start, end) of each section in documentText. */
function sectionRanges(sections: ParsedSection[]): { start: number; end: number }[] {
  let offset = 0;
  return sections.map((s) => {
    const range = { start: offset, end: offset + s.text.length };
    offset = range.end + 2;
    return range;
  });
}

function chunksOfSection(chunks: Chunk[], range: { start: number; end: number }): Chunk[] {
  return chunks.filter((c) => c.charStart >= range.start && c.charEnd <= range.end);
}

const MIXED: ParsedSection[] = [
  { text: 'Short preface.' },
  { text: paragraphs(1, 12, 5), headingPath: ['Budget'] },
  { text: paragraphs(2, 6, 4), headingPath: ['Budget', 'Suppliers'] },
  { text: prose(3, 40), page: 4 },
  { text: prose(4, 3), page: 5 },
];

describe('documentText', () => {
  it('joins section texts with one blank line, the text that chunk offsets refer to', () => {
    expect(documentText({ sections: [{ text: 'a' }, { text: 'b', page: 2 }, { text: 'c' }] })).toBe('a\n\nb\n\nc');
  });
});

describe('chunkDocument', () => {
  it('a section shorter than a chunk becomes exactly one chunk with its provenance', () => {
    const chunks = chunkDocument({ sections: [{ text: 'Fees are due in 30 days.', page: 2, headingPath: ['Terms'] }] });
    expect(chunks).toEqual([
      {
        ordinal: 0,
        text: 'Fees are due in 30 days.',
        tokenCount: tokens('Fees are due in 30 days.'),
        charStart: 0,
        charEnd: 24,
        page: 2,
        headingPath: ['Terms'],
      },
    ]);
  });

  it('a chunk of a section with no page or heading carries neither field', () => {
    const [chunk] = chunkDocument({ sections: [{ text: 'Plain.' }] });
    expect(chunk).toBeDefined();
    expect(Object.keys(chunk ?? {})).not.toContain('page');
    expect(Object.keys(chunk ?? {})).not.toContain('headingPath');
  });

  it('every chunk is exactly the document text between its charStart and charEnd', () => {
    const text = documentText({ sections: MIXED });
    const chunks = chunkDocument({ sections: MIXED });
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks) expect(text.slice(chunk.charStart, chunk.charEnd)).toBe(chunk.text);
    expect(chunks.map((c) => c.ordinal)).toEqual(chunks.map((_, i) => i));
  });

  it.each([
    [300, 50],
    [64, 16],
    [20, 5],
    [8, 0],
  ])('no chunk exceeds %i tokens (overlap %i), and tokenCount is the real cl100k count', (chunkTokens, overlapTokens) => {
    const chunks = chunkDocument({ sections: MIXED }, { chunkTokens, overlapTokens });
    for (const chunk of chunks) {
      expect(chunk.tokenCount).toBe(tokens(chunk.text));
      expect(chunk.tokenCount).toBeLessThanOrEqual(chunkTokens);
      expect(chunk.text.trim()).toBe(chunk.text);
      expect(chunk.text).not.toBe('');
    }
  });

  it('chunks never span two sections with a different page or heading path', () => {
    const chunks = chunkDocument({ sections: MIXED });
    const ranges = sectionRanges(MIXED);
    for (const chunk of chunks) {
      const home = ranges.findIndex((r) => chunk.charStart >= r.start && chunk.charEnd <= r.end);
      expect(home, `chunk ${chunk.ordinal} lies inside one section`).not.toBe(-1);
      expect(chunk.page).toEqual(MIXED[home]?.page);
      expect(chunk.headingPath).toEqual(MIXED[home]?.headingPath);
    }
  });

  it('two short sections with the same page and heading path may share one chunk', () => {
    const chunks = chunkDocument({
      sections: [
        { text: 'One.', page: 1 },
        { text: 'Two.', page: 1 },
        { text: 'Three.', page: 2 },
      ],
    });
    expect(chunks.map((c) => [c.text, c.page])).toEqual([
      ['One.\n\nTwo.', 1],
      ['Three.', 2],
    ]);
  });

  it('the chunks of a section cover every non-space character of it', () => {
    const text = documentText({ sections: MIXED });
    const covered = new Uint8Array(text.length);
    for (const c of chunkDocument({ sections: MIXED })) covered.fill(1, c.charStart, c.charEnd);
    const missed = [...text].filter((ch, i) => !/\s/.test(ch) && covered[i] === 0);
    expect(missed).toEqual([]);
  });

  it('a long section is split into chunks that overlap by at most overlapTokens, and always move forward', () => {
    const section = { text: prose(7, 200) };
    const chunks = chunkDocument({ sections: [section] }, { chunkTokens: 300, overlapTokens: 50 });
    expect(chunks.length).toBeGreaterThan(5);
    for (let k = 1; k < chunks.length; k++) {
      const prev = chunks[k - 1] as Chunk;
      const next = chunks[k] as Chunk;
      expect(next.charStart).toBeGreaterThan(prev.charStart);
      expect(next.charStart).toBeLessThan(prev.charEnd); // they do overlap
      expect(tokens(section.text.slice(next.charStart, prev.charEnd))).toBeLessThanOrEqual(50);
    }
  });

  it('with overlapTokens 0, consecutive chunks do not overlap', () => {
    const chunks = chunkDocument({ sections: [{ text: prose(8, 100) }] }, { chunkTokens: 100, overlapTokens: 0 });
    for (let k = 1; k < chunks.length; k++) {
      expect((chunks[k] as Chunk).charStart).toBeGreaterThanOrEqual((chunks[k - 1] as Chunk).charEnd);
    }
  });

  it('chunks of running prose end at a sentence end and overlaps start at a sentence start', () => {
    const text = prose(9, 300);
    const chunks = chunkDocument({ sections: [{ text }] });
    for (const chunk of chunks) {
      expect(chunk.text.endsWith('.'), `chunk ${chunk.ordinal} ends a sentence`).toBe(true);
      expect(chunk.text.charAt(0)).toMatch(/[A-Z]/);
    }
  });

  it('near the limit, a paragraph end is preferred over a sentence end', () => {
    // Paragraphs of about 60-120 tokens: a paragraph end always falls in the last 40% of 300.
    const text = paragraphs(10, 60, 4);
    const chunks = chunkDocument({ sections: [{ text }] });
    for (const chunk of chunks.slice(0, -1)) {
      expect(text.slice(chunk.charEnd, chunk.charEnd + 2), `chunk ${chunk.ordinal} ends a paragraph`).toBe('\n\n');
    }
  });

  it('text with no spaces (Chinese) is split within the limit, at full stops, without splitting characters', () => {
    const sentence = '客户要求在季度审查之前提交修订后的预算，团队同意星期一发送数据。';
    const text = sentence.repeat(200) + '😀'.repeat(500);
    const chunks = chunkDocument({ sections: [{ text }] }, { chunkTokens: 100, overlapTokens: 20 });
    expect(chunks.length).toBeGreaterThan(10);
    for (const chunk of chunks) {
      expect(chunk.tokenCount).toBeLessThanOrEqual(100);
      expect(chunk.text).not.toMatch(/[\uD800-\uDFFF]/u); // with /u this matches only a lone surrogate
    }
    const prosePart = chunks.filter((c) => c.charEnd <= sentence.length * 200);
    for (const chunk of prosePart.slice(0, -1)) expect(chunk.text.endsWith('。')).toBe(true);
  });

  it('a document that quotes "<|endoftext|>" is chunked as ordinary text', () => {
    const text = 'The marker <|endoftext|> ends a sample.';
    const [chunk] = chunkDocument({ sections: [{ text }] });
    expect(chunk?.text).toBe(text);
    expect(chunk?.tokenCount).toBe(tokens(text));
  });

  it('a 2 MB run of one letter with no spaces is chunked in seconds, every chunk within the limit', () => {
    const text = 'a'.repeat(2_000_000);
    const started = performance.now();
    const chunks = chunkDocument({ sections: [{ text }] });
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(chunks.every((c) => c.tokenCount <= 300)).toBe(true);
    expect(chunks.at(-1)?.charEnd).toBe(text.length);
  });

  it('chunking time grows linearly: 20 MB takes under 20x the time of 2 MB (quadratic: ~100x) and under 30 s', () => {
    const paragraph = paragraphs(11, 200, 5); // about 100 KB, repeated
    const make = (bytes: number) => {
      const parts: string[] = [];
      for (let len = 0; len < bytes; len += paragraph.length + 2) parts.push(paragraph);
      return parts.join('\n\n');
    };
    const small = make(2_000_000);
    const large = make(20_000_000);
    chunkDocument({ sections: [{ text: paragraph }] }); // warm up the JIT and the tokenizer's cache

    let started = performance.now();
    chunkDocument({ sections: [{ text: small }] });
    const smallMs = performance.now() - started;
    started = performance.now();
    const chunks = chunkDocument({ sections: [{ text: large }] });
    const largeMs = performance.now() - started;

    console.info(
      `chunker: ${(large.length / 1e6).toFixed(1)} MB -> ${chunks.length} chunks in ${(largeMs / 1000).toFixed(2)} s ` +
        `(${(large.length / 1e6 / (largeMs / 1000)).toFixed(1)} MB/s); 2 MB in ${(smallMs / 1000).toFixed(2)} s`,
    );
    expect(largeMs).toBeLessThan(30_000);
    expect(largeMs / smallMs).toBeLessThan(20);
  });

  it('rejects options that cannot make progress', () => {
    const doc = { sections: [{ text: 'x' }] };
    expect(() => chunkDocument(doc, { chunkTokens: 0, overlapTokens: 0 })).toThrow(RangeError);
    expect(() => chunkDocument(doc, { chunkTokens: 50, overlapTokens: 50 })).toThrow(RangeError);
    expect(() => chunkDocument(doc, { chunkTokens: 50, overlapTokens: -1 })).toThrow(RangeError);
  });
});
