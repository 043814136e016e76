// Streaming reads of the XML parts inside office files (htmlparser2 in XML mode), depth-capped.
import { Parser } from 'htmlparser2';
import { ParseError } from './parse-error.js';

/** Office parts nest a few dozen levels; thousands is a file built to exhaust the parser. */
export const MAX_XML_DEPTH = 500;

export interface XmlHandlers {
  open?(name: string, attrs: Record<string, string>, depth: number): void;
  text?(text: string): void;
  close?(name: string, depth: number): void;
}

/** Walks one XML part. Element names keep their prefix ("a:t"); entities are decoded. */
export function walkXml(xml: Buffer | string, kind: string, h: XmlHandlers): void {
  let depth = 0;
  let failure: ParseError | null = null;
  const parser = new Parser(
    {
      onopentag(name, attrs) {
        if (failure) return;
        depth++;
        if (depth > MAX_XML_DEPTH) {
          failure = new ParseError('TOO_DEEP', `This ${kind} is nested too deeply to read.`);
          parser.pause();
          return;
        }
        h.open?.(name, attrs, depth);
      },
      ontext(text) {
        if (!failure) h.text?.(text);
      },
      onclosetag(name) {
        if (failure) return;
        h.close?.(name, depth);
        depth--;
      },
    },
    { xmlMode: true, decodeEntities: true, recognizeSelfClosing: true },
  );
  parser.end(typeof xml === 'string' ? xml : xml.toString('utf8'));
  if (failure) throw failure;
}

/** Relationship id → target path, resolved against `baseDir` ("ppt/", "xl/"). */
export function readRelationships(xml: Buffer | undefined, baseDir: string, kind: string): Map<string, { target: string; type: string }> {
  const rels = new Map<string, { target: string; type: string }>();
  if (!xml) return rels;
  walkXml(xml, kind, {
    open(name, attrs) {
      if (name === 'Relationship' && attrs.Id && attrs.Target && attrs.TargetMode !== 'External') {
        rels.set(attrs.Id, { target: resolvePart(baseDir, attrs.Target), type: attrs.Type ?? '' });
      }
    },
  });
  return rels;
}

/** A part name from a relationship target: "../notesSlides/n1.xml" against "ppt/slides/". */
export function resolvePart(baseDir: string, target: string): string {
  const parts = (target.startsWith('/') ? target.slice(1) : baseDir + target).split('/');
  const out: string[] = [];
  for (const p of parts) {
    if (p === '..') out.pop();
    else if (p !== '.' && p !== '') out.push(p);
  }
  return out.join('/');
}
