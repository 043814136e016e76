import { describe, expect, it } from 'vitest';
import { CSV_YIELD_EVERY, guessDelimiter, readCsv } from '../../../src-main/ingest/parsers/csv-reader.js';
import { ParseError } from '../../../src-main/ingest/parsers/index.js';
import { parseOutcome } from '../../helpers/documents.js';

// The CSV reader that replaced csv-parse: RFC 4180 records, and its limits checked while it reads.
async function records(source: string, opts: Parameters<typeof readCsv>[2] = {}): Promise<string[][]> {
  const out: string[][] = [];
  await readCsv(source, (cells) => out.push([...cells]), opts);
  return out;
}

describe('csv reader', () => {
  it('reads quoted cells with delimiters, doubled quotes and line breaks inside, and CR, LF and CRLF line ends', async () => {
    const source = 'a,b\r\n"x, y","say ""hi"""\r"multi\r\nline",2\nlast,"";\n';
    expect(await records(source)).toEqual([
      ['a', 'b'],
      ['x, y', 'say "hi"'],
      ['multi\r\nline', '2'],
      ['last', ';'],
    ]);
  });

  it('skips wholly empty lines but keeps a record of empty cells and a quoted empty cell', async () => {
    expect(await records('a,b\n\n\r\n,\n""\nend')).toEqual([['a', 'b'], ['', ''], [''], ['end']]);
  });

  it('keeps a quote inside an unquoted cell, and what follows a closing quote, as characters', async () => {
    expect(await records('5" pipe,"a"b,c\n')).toEqual([['5" pipe', 'ab', 'c']]);
  });

  it('a quoted cell never closed is CORRUPT', async () => {
    expect(await parseOutcome(records('a,b\n1,"open\n2,3\n'))).toBe('CORRUPT');
  });

  it('guesses the delimiter from the first record, outside quotes: comma, semicolon, tab or pipe', () => {
    expect(guessDelimiter('a;b;c\n1,2;3,4;5')).toBe(';');
    expect(guessDelimiter('a\tb\n')).toBe('\t');
    expect(guessDelimiter('"x|y|z",a|b,c,d\n')).toBe(',');
    expect(guessDelimiter('a|b|c')).toBe('|');
    expect(guessDelimiter('"head;er\n;;;"\n1,2')).toBe(',');
    expect(guessDelimiter('single')).toBe(',');
  });

  it('refuses at the cell that crosses the cell limit, before reading the records after it', async () => {
    const seen: number[] = [];
    const source = '1,2,3\n4,5,6\n7,8,9\n10,11,12\n';
    const err = await readCsv(source, (cells) => seen.push(cells.length), { maxCells: 8 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ParseError);
    expect((err as ParseError).code).toBe('TOO_LARGE');
    expect(seen).toEqual([3, 3]);
    expect(await parseOutcome(records(source, { maxCells: 12 }))).toBe('ok');
  });

  it('refuses a record longer than the record limit as TOO_LARGE, quoted or not, and an unclosed quote past it too', async () => {
    const long = 'x'.repeat(200);
    expect(await parseOutcome(records(`a\n${long}\n`, { maxRecordChars: 100 }))).toBe('TOO_LARGE');
    expect(await parseOutcome(records(`a\n"${long}"\n`, { maxRecordChars: 100 }))).toBe('TOO_LARGE');
    expect(await parseOutcome(records(`a\n"${long}`, { maxRecordChars: 100 }))).toBe('TOO_LARGE');
    expect(await parseOutcome(records(`a,b\n${'y,'.repeat(60)}\n`, { maxRecordChars: 100 }))).toBe('TOO_LARGE');
    expect(await parseOutcome(records(`a\n${'x'.repeat(99)}\n`, { maxRecordChars: 100 }))).toBe('ok');
  });

  it('yields to the event loop between batches of records, where a checkpoint can stop it', async () => {
    let checks = 0;
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const source = 'v\n'.repeat(CSV_YIELD_EVERY * 3);
    const err = await readCsv(source, () => undefined, {
      checkpoint: () => {
        if (++checks === 2) throw new ParseError('ABORTED', 'stopped');
      },
    }).catch((e: unknown) => e);
    clearInterval(timer);
    expect((err as ParseError).code).toBe('ABORTED');
    expect(checks).toBe(2);
    expect(ticks).toBeGreaterThan(0);
  });
});
