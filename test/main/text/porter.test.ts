import Database from 'better-sqlite3-multiple-ciphers';
import { describe, expect, it } from 'vitest';
import { porterStem } from '../../../src-main/text/porter.js';

const WORDS = `caresses ponies ties caress cats feed agreed plastered bled motoring sing conflated troubled
  sized hopping tanned falling hissing fizzed failing filing happy sky relational conditional rational
  valenci hesitanci digitizer conformabli radicalli differentli vileli analogousli vietnamization
  predication operator feudalism decisiveness hopefulness callousness formaliti sensitiviti
  sensibiliti triplicate formative formalize electriciti electrical hopeful goodness revival
  allowance inference airliner gyroscopic adjustable defensible irritant replacement adjustment
  dependent adoption homologou communism activate angulariti homologous effective bowdlerize probate
  rate cease controll roll generalizations oscillating aeroelastic 500degrees yield y`
  .split(/\s+/)
  .filter((w) => w !== '');

describe('porterStem', () => {
  it('gives the stems of the examples in Porter (1980)', () => {
    expect(porterStem('caresses')).toBe('caress');
    expect(porterStem('ponies')).toBe('poni');
    expect(porterStem('relational')).toBe('relat');
    expect(porterStem('hopping')).toBe('hop');
    expect(porterStem('filing')).toBe('file');
    expect(porterStem('generalizations')).toBe('gener');
    expect(porterStem('controll')).toBe('control');
  });

  it('agrees with the FTS5 porter tokenizer, so the embedder and the index conflate the same forms', () => {
    const db = new Database(':memory:');
    db.exec(`CREATE VIRTUAL TABLE t USING fts5(x, tokenize='porter ascii');
             CREATE VIRTUAL TABLE v USING fts5vocab(t, instance);`);
    const insert = db.prepare('INSERT INTO t(rowid, x) VALUES (?, ?)');
    WORDS.forEach((w, i) => insert.run(i + 1, w));
    const fts = db.prepare('SELECT doc, term FROM v ORDER BY doc').all() as { doc: number; term: string }[];
    expect(fts).toHaveLength(WORDS.length);
    for (const { doc, term } of fts) expect([WORDS[doc - 1], porterStem(WORDS[doc - 1]!)]).toEqual([WORDS[doc - 1], term]);
    db.close();
  });

  it('leaves short and non-ASCII words alone', () => {
    expect(porterStem('as')).toBe('as');
    expect(porterStem('café')).toBe('café');
    expect(porterStem('東京')).toBe('東京');
  });
});
