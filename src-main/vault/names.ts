// Tenant names that cannot pass for another. The registry's name key (src-shared nameKey) keeps
// folding case and width as before; on top of it, a new or changed name is compared with every
// other tenant's through a look-alike key, and refused when the two would look the same in the
// switcher. The key (Unicode TR39 "skeleton", made tolerant of case and invisibles):
//   NFKC -> drop default-ignorable code points (zero-width spaces and joiners, soft hyphens,
//   variation selectors, bidi marks) -> lower case -> confusable mapping -> whitespace collapsed.
// The confusable data is Unicode's own confusables.txt, as packaged by `unhomoglyph` (nodeca,
// the markdown-it authors; used by Matrix clients for the same purpose on display names): a
// maintained copy of the table beats a hand-written list of look-alike letters.
import unhomoglyph from 'unhomoglyph';
import { BulkheadError } from '../../src-shared/errors.js';

/** Unicode's Default_Ignorable_Code_Point: rendered as nothing, so "Acme\u200b Corp" looks like "Acme Corp". */
const DEFAULT_IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu;
/** U+2028/U+2029 and the other line breaks a name must never hold (a name is one line). */
const LINE_BREAKS = /[\n\v\f\r\u0085\u2028\u2029]/u;

/**
 * Scripts that may share one name, beside Common and Inherited characters (digits, punctuation,
 * combining marks): TR39's "highly restrictive" profile. Anything else that mixes scripts
 * ("\u0410cme": Cyrillic A among Latin letters) is how a look-alike is made, and is refused.
 */
const ALLOWED_MIXES: readonly (readonly string[])[] = [
  ['Latin', 'Han', 'Hiragana', 'Katakana'],
  ['Latin', 'Han', 'Bopomofo'],
  ['Latin', 'Han', 'Hangul'],
];
const SCRIPTS = [
  'Latin',
  'Greek',
  'Cyrillic',
  'Armenian',
  'Hebrew',
  'Arabic',
  'Syriac',
  'Thaana',
  'Devanagari',
  'Bengali',
  'Gurmukhi',
  'Gujarati',
  'Oriya',
  'Tamil',
  'Telugu',
  'Kannada',
  'Malayalam',
  'Sinhala',
  'Thai',
  'Lao',
  'Tibetan',
  'Myanmar',
  'Georgian',
  'Hangul',
  'Ethiopic',
  'Cherokee',
  'Khmer',
  'Mongolian',
  'Hiragana',
  'Katakana',
  'Bopomofo',
  'Han',
  'Tifinagh',
  'Nko',
  'Canadian_Aboriginal',
] as const;
const SCRIPT_RE = SCRIPTS.map((s) => [s, new RegExp(`\\p{Script=${s}}`, 'u')] as const);
const NEUTRAL = /[\p{Script=Common}\p{Script=Inherited}]/u;

/** The key two names collide on when they would look alike. */
export function lookalikeKey(name: string): string {
  const visible = name.normalize('NFKC').replace(DEFAULT_IGNORABLE, '').normalize('NFD');
  // Mapped before and after lower-casing: a capital I passes for an l, a Cyrillic А for an A.
  const folded = unhomoglyph(unhomoglyph(visible).toLowerCase()).normalize('NFD');
  return folded.replace(/\s+/gu, ' ').trim();
}

/** The scripts a name is written in, Common and Inherited characters left out. */
export function scriptsOf(name: string): string[] {
  const found = new Set<string>();
  for (const ch of name) {
    if (NEUTRAL.test(ch)) continue;
    found.add(SCRIPT_RE.find(([, re]) => re.test(ch))?.[0] ?? 'Other');
  }
  return [...found];
}

/**
 * Refuses a tenant name that breaks a line, mixes scripts, or looks like the name of another
 * tenant (`others`, the tenant being renamed left out). Called wherever a name is set: create,
 * rename, import. The name has already passed DisplayName (length, controls, bidi overrides).
 */
export function refuseMisleadingName(name: string, others: readonly { id: string; name: string }[], selfId?: string): void {
  if (LINE_BREAKS.test(name)) throw new BulkheadError('INPUT_INVALID', 'a tenant name cannot contain line or paragraph separators');
  const scripts = scriptsOf(name);
  if (scripts.length > 1 && !ALLOWED_MIXES.some((mix) => scripts.every((s) => mix.includes(s)))) {
    throw new BulkheadError('INPUT_INVALID', `a tenant name cannot mix scripts (${scripts.join(' and ')}): it could pass for another name`);
  }
  if (lookalikeKey(name) === '') throw new BulkheadError('INPUT_INVALID', 'a tenant name needs visible characters');
  const key = lookalikeKey(name);
  const twin = others.find((t) => t.id !== selfId && lookalikeKey(t.name) === key);
  if (twin) throw new BulkheadError('NAME_TAKEN', `a tenant named "${twin.name}" already exists, and this name looks the same`);
}
