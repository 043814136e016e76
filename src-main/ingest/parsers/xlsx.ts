// Excel (.xlsx): every sheet's cells as rows of "header: value" lines (the first non-empty row is
// the header, as for CSV), the sheet's name as the heading path. Read as XML under caps.
import type { ParseContext, ParsedDocument, ParsedSection } from './document.js';
import { readOfficeZip } from './office-zip.js';
import { readRelationships, walkXml } from './office-xml.js';
import { ParseError, throwIfStopped } from './parse-error.js';

const KIND = 'Excel workbook';
/** Cells read across the workbook; a sheet built to be huge is refused rather than read forever. */
export const MAX_CELLS = 2_000_000;
export const MAX_SHARED_STRINGS = 1_000_000;
const MAX_SHEETS = 1_000;
/** Columns of a worksheet (A to XFD); a cell further right is not Excel's. */
const MAX_COLUMNS = 16_384;

/** The cells of a row that have a value, as [0-based column, value]. */
type Row = [number, string][];

/** The column after the last cell of the row, for a cell that gives no reference. */
function nextColumn(row: Row): number {
  return row.length === 0 ? 0 : row[row.length - 1]![0] + 1;
}

/** "AB12" → 27 (0-based column). */
function columnOf(ref: string | undefined, fallback: number): number {
  const m = /^([A-Z]{1,3})\d*$/.exec(ref ?? '');
  if (!m) return fallback;
  let n = 0;
  for (const ch of m[1]!) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}

function columnName(i: number): string {
  let s = '';
  for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

function sharedStrings(xml: Buffer | undefined): string[] {
  const out: string[] = [];
  if (!xml) return out;
  let current: string | null = null;
  let inT = false;
  let inPhonetic = false;
  walkXml(xml, KIND, {
    open(name) {
      if (name === 'si') current = '';
      else if (name === 't') inT = true;
      else if (name === 'rPh') inPhonetic = true;
    },
    text(t) {
      if (inT && !inPhonetic && current !== null) current += t;
    },
    close(name) {
      if (name === 't') inT = false;
      else if (name === 'rPh') inPhonetic = false;
      else if (name === 'si') {
        out.push(current ?? '');
        current = null;
        if (out.length > MAX_SHARED_STRINGS) throw new ParseError('TOO_LARGE', 'This workbook has too many distinct texts to read.');
      }
    },
  });
  return out;
}

export async function parseXlsx(bytes: Buffer, ctx: ParseContext): Promise<ParsedDocument> {
  const zip = await readOfficeZip(bytes, KIND, (n) => n.endsWith('.xml') || n.endsWith('.rels'), ctx.maxExpandedBytes, ctx.signal);
  const workbook = zip.get('xl/workbook.xml');
  if (!workbook) throw new ParseError('CORRUPT', 'This file is a zip archive but not an Excel workbook.');
  const rels = readRelationships(zip.get('xl/_rels/workbook.xml.rels'), 'xl/', KIND);
  const sheets: { name: string; part: string }[] = [];
  walkXml(workbook, KIND, {
    open(name, attrs) {
      if (name === 'sheet' && attrs['r:id']) {
        const part = rels.get(attrs['r:id'])?.target;
        if (part) sheets.push({ name: (attrs.name ?? `Sheet ${sheets.length + 1}`).trim(), part });
      }
    },
  });
  if (sheets.length > MAX_SHEETS) throw new ParseError('TOO_LARGE', 'This workbook has too many sheets to read.');
  const strings = sharedStrings(zip.get('xl/sharedStrings.xml'));
  const sections: ParsedSection[] = [];
  let cells = 0;
  // A part is read once, however many sheets name it: otherwise one huge part named by every
  // sheet entry is walked a thousand times (the cell cap does not see a part of no cells).
  const read = new Set<string>();
  for (const sheet of sheets) {
    throwIfStopped(ctx.signal);
    const xml = read.has(sheet.part) ? undefined : zip.get(sheet.part);
    read.add(sheet.part);
    if (!xml) continue;
    // Rows hold only the cells they have, as [column, value]: a cell far to the right does not
    // make a row of thousands of empty slots to go through.
    const rows: Row[] = [];
    let row: Row | null = null;
    let cell: { col: number; type: string; value: string } | null = null;
    let inValue = false;
    walkXml(xml, KIND, {
      open(name, attrs) {
        if (name === 'row') row = [];
        else if (name === 'c' && row) {
          if (++cells > MAX_CELLS) throw new ParseError('TOO_LARGE', `This workbook has more than ${MAX_CELLS.toLocaleString('en')} cells.`);
          cell = { col: columnOf(attrs.r, nextColumn(row)), type: attrs.t ?? 'n', value: '' };
        } else if ((name === 'v' || name === 't') && cell) inValue = true;
      },
      text(t) {
        if (inValue && cell) cell.value += t;
      },
      close(name) {
        if (name === 'v' || name === 't') inValue = false;
        else if (name === 'c' && cell && row) {
          let v = cell.value;
          if (cell.type === 's') v = strings[Number(v)] ?? '';
          else if (cell.type === 'b') v = v === '1' ? 'TRUE' : 'FALSE';
          v = v.trim();
          if (v && cell.col < MAX_COLUMNS) row.push([cell.col, v]);
          cell = null;
        } else if (name === 'row' && row) {
          if (row.length > 0) rows.push(row.sort((a, b) => a[0] - b[0]));
          row = null;
        }
      },
    });
    if (rows.length === 0) continue;
    const [header, ...body] = rows;
    const names = new Map(header!.map(([col, v]) => [col, v]));
    const nameOf = (col: number): string => names.get(col) ?? `column ${columnName(col)}`;
    let text = '';
    if (body.length === 0) text = header!.map(([, v]) => v).join(', ');
    else {
      const blocks: string[] = [];
      for (const r of body) {
        // A shared text used by every cell, or a long header repeated on every row, is spent here,
        // cell by cell, before any of it is joined.
        const lines = r.map(([col, v]) => {
          const line = `${nameOf(col)}: ${v}`;
          ctx.textBudget.spend(line.length + 1);
          return line;
        });
        blocks.push(lines.join('\n'));
      }
      text = blocks.join('\n\n');
    }
    text = text.trim();
    if (text) sections.push({ text, headingPath: [sheet.name] });
  }
  return { title: ctx.fallbackTitle, format: 'xlsx', sections };
}
