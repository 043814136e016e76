// Names come from files, users and connector servers; a bidi override in one reorders what the
// console shows ("invoice\u202Efdp.txt" reads as "invoicetxt.pdf"). Every name the console puts on
// screen or in an accessible label goes through <Name> or displayName(). Read from the syntax tree:
// a JSX child or attribute that shows a `.name`, `.title`, `.sourcePath`, `.path` or `.fileName`
// (directly or inside a template) fails, naming the file and line.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const NAME_FIELDS = new Set(['name', 'title', 'sourcePath', 'path', 'fileName']);
// Attributes that are never shown: React's list key and the input's own value plumbing.
const UNSHOWN_ATTRIBUTES = new Set(['key', 'value', 'htmlFor', 'id', 'name']);

function rawNameUses(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TSX);
  const found: string[] = [];
  const where = (n: ts.Node) => `${file}:${source.getLineAndCharacterOfPosition(n.getStart()).line + 1}`;

  /** Property reads of a name field in `e`, not counting those already passed to displayName(). */
  function scan(e: ts.Node): void {
    if (ts.isCallExpression(e) && ts.isIdentifier(e.expression) && e.expression.text === 'displayName') return;
    if (ts.isPropertyAccessExpression(e) && NAME_FIELDS.has(e.name.text)) {
      found.push(`${where(e)} shows ${e.getText(source)} without displayName`);
      return;
    }
    // What a condition picks is shown, the condition itself is not; nor is a comparison or an
    // argument to another call (a formatter, a handler).
    if (ts.isConditionalExpression(e)) return (scan(e.whenTrue), scan(e.whenFalse));
    if (ts.isBinaryExpression(e)) {
      const op = e.operatorToken.kind;
      if (op === ts.SyntaxKind.AmpersandAmpersandToken) return scan(e.right);
      if (op === ts.SyntaxKind.BarBarToken || op === ts.SyntaxKind.QuestionQuestionToken) return (scan(e.left), scan(e.right));
      return;
    }
    if (ts.isCallExpression(e)) return;
    if (ts.isJsxElement(e) || ts.isJsxSelfClosingElement(e) || ts.isJsxFragment(e)) return; // visited on its own
    ts.forEachChild(e, scan);
  }

  function visit(n: ts.Node): void {
    if (ts.isJsxExpression(n) && n.expression) {
      const attribute = ts.isJsxAttribute(n.parent) ? n.parent : null;
      const attributeName = attribute ? attribute.name.getText(source) : null;
      const element = attribute?.parent.parent;
      const isNameText = attributeName === 'text' && element && ts.isJsxSelfClosingElement(element) && element.tagName.getText(source) === 'Name';
      const isHandler = attributeName?.startsWith('on') ?? false;
      if (!isNameText && !isHandler && !(attributeName && UNSHOWN_ATTRIBUTES.has(attributeName))) scan(n.expression);
    }
    ts.forEachChild(n, visit);
  }
  visit(source);
  return found;
}

function tsxFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.tsx'))
    .map((f) => path.join(dir, f));
}

describe('console names', () => {
  it('every name the console shows goes through <Name> or displayName()', () => {
    const offenders = tsxFiles('src-renderer').flatMap((f) => rawNameUses(f, fs.readFileSync(f, 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('the check sees a raw name in a child, in a template attribute and behind a condition, and lets Name and displayName pass', () => {
    const sample = [
      'const a = <td>{doc.title}</td>;',
      'const b = <button aria-label={`Delete ${d.sourcePath}`} />;',
      'const c = <p>{view ? view.document.name : "none"}</p>;',
      'const ok1 = <Name text={doc.title} />;',
      'const ok2 = <button aria-label={`Delete ${displayName(d.title)}`} key={d.path} onClick={() => remove(d.path)} />;',
      'const ok3 = <p>{items.length === 0 && d.name === "x" ? "empty" : null}</p>;',
      'const ok4 = <p>{d.title ? <Name text={d.title} /> : "Untitled"}</p>;',
    ].join('\n');
    const found = rawNameUses('sample.tsx', sample);
    expect(found).toEqual([
      'sample.tsx:1 shows doc.title without displayName',
      'sample.tsx:2 shows d.sourcePath without displayName',
      'sample.tsx:3 shows view.document.name without displayName',
    ]);
  });
});
