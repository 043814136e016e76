// PowerPoint (.pptx): each slide's text in presentation order, then its speaker notes, with
// "Slide N: title" as the heading path.
import type { ParseContext, ParsedDocument, ParsedSection } from './document.js';
import { readOfficeZip } from './office-zip.js';
import { readRelationships, walkXml } from './office-xml.js';
import { ParseError, throwIfStopped } from './parse-error.js';

const KIND = 'PowerPoint presentation';
/** A deck has hundreds of slides at most; more is not a presentation. */
export const MAX_SLIDES = 5_000;

/** Paragraphs of a slide or notes part; shapes that only repeat the slide number or image are left out. */
function slideParagraphs(xml: Buffer, skipPlaceholders: ReadonlySet<string>): { title: string | null; paragraphs: string[] } {
  const paragraphs: string[] = [];
  let title: string | null = null;
  let current = '';
  let inText = false;
  let shapeDepth = 0;
  let skipShape = false;
  let titleShape = false;
  walkXml(xml, KIND, {
    open(name, attrs, depth) {
      if (name === 'p:sp') {
        shapeDepth = depth;
        skipShape = false;
        titleShape = false;
      } else if (name === 'p:ph') {
        const type = attrs.type ?? '';
        if (skipPlaceholders.has(type)) skipShape = true;
        if (type === 'title' || type === 'ctrTitle') titleShape = true;
      } else if (name === 'a:t') inText = true;
      else if (name === 'a:br') current += '\n';
    },
    text(t) {
      if (inText && !skipShape) current += t;
    },
    close(name, depth) {
      if (name === 'a:t') inText = false;
      else if (name === 'a:p') {
        const p = current.trim();
        if (p) {
          paragraphs.push(p);
          if (titleShape && title === null) title = p;
        }
        current = '';
      } else if (name === 'p:sp' && depth === shapeDepth) skipShape = titleShape = false;
    },
  });
  return { title, paragraphs };
}

export async function parsePptx(bytes: Buffer, ctx: ParseContext): Promise<ParsedDocument> {
  const zip = await readOfficeZip(bytes, KIND, (n) => n.endsWith('.xml') || n.endsWith('.rels'), ctx.maxExpandedBytes, ctx.signal);
  const presentation = zip.get('ppt/presentation.xml');
  if (!presentation) throw new ParseError('CORRUPT', 'This file is a zip archive but not a PowerPoint presentation.');
  const rels = readRelationships(zip.get('ppt/_rels/presentation.xml.rels'), 'ppt/', KIND);
  const order: string[] = [];
  walkXml(presentation, KIND, {
    open(name, attrs) {
      if (name === 'p:sldId' && attrs['r:id']) {
        const target = rels.get(attrs['r:id'])?.target;
        if (target) order.push(target);
      }
    },
  });
  if (order.length > MAX_SLIDES) throw new ParseError('TOO_LARGE', `This presentation has more than ${MAX_SLIDES.toLocaleString('en')} slides.`);
  const sections: ParsedSection[] = [];
  let deckTitle: string | null = null;
  // A part is read once, however many slide entries (or slides' notes) name it: 5,000 entries
  // naming one large slide would otherwise walk it 5,000 times, past any deadline. A slide named
  // again is not another slide: it keeps its first place.
  const slides = [...new Set(order)];
  const read = new Set<string>();
  const once = (part: string | undefined): Buffer | undefined => {
    if (part === undefined || read.has(part)) return undefined;
    read.add(part);
    return zip.get(part);
  };
  const emit = (section: ParsedSection): void => {
    ctx.textBudget.spend(section.text.length + 1);
    sections.push(section);
  };
  for (const [i, part] of slides.entries()) {
    throwIfStopped(ctx.signal);
    const xml = once(part);
    if (!xml) continue;
    const slide = slideParagraphs(xml, new Set(['sldNum', 'dt', 'ftr']));
    const heading = `Slide ${i + 1}${slide.title ? `: ${slide.title}` : ''}`;
    deckTitle ??= slide.title;
    if (slide.paragraphs.length) emit({ text: slide.paragraphs.join('\n'), headingPath: [heading] });
    const dir = part.slice(0, part.lastIndexOf('/') + 1);
    const slideRels = readRelationships(zip.get(`${dir}_rels/${part.slice(dir.length)}.rels`), dir, KIND);
    const notesPart = [...slideRels.values()].find((r) => r.type.endsWith('/notesSlide'))?.target;
    const notesXml = once(notesPart);
    if (notesXml) {
      const notes = slideParagraphs(notesXml, new Set(['sldNum', 'sldImg', 'dt', 'ftr', 'hdr']));
      if (notes.paragraphs.length) emit({ text: notes.paragraphs.join('\n'), headingPath: [heading, 'Notes'] });
    }
  }
  return { title: deckTitle ?? ctx.fallbackTitle, format: 'pptx', sections };
}
