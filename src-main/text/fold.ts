// Text folding shared by the full-text index and the offline embedder, so that both see the
// same tokens: "Café" and "cafe", "ﬁnite" and "finite", fullwidth "ＡＢＣ" and "ABC".

// Combining diacritical marks only (Latin, Greek, Cyrillic accents). Other marks are kept:
// Devanagari vowel signs or the kana voicing marks change the meaning of a word.
const DIACRITICS = /[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]/g;

/** Compatibility-decomposes, drops accents, recomposes (Hangul), lower-cases. */
export function foldText(text: string): string {
  return text.normalize('NFKD').replace(DIACRITICS, '').normalize('NFC').toLowerCase();
}

/**
 * Scripts written without spaces between words (Han, kana, Hangul, Thai, Lao, Khmer, Myanmar):
 * a run of them is one "word" to a whitespace tokenizer, so they are handled per character.
 */
export const UNSPACED_CHAR =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}\u30fc]/u;

/**
 * Token characters: the same classes as the FTS5 tokenizer's `categories 'L* N* Co M*'`, so a
 * term extracted here is exactly one token there.
 */
export const TOKEN_RUN = /[\p{L}\p{N}\p{Co}\p{M}]+/gu;

const ASCII = /^[\x00-\x7f]*$/;

export interface TextRun {
  /** 'word' for space-delimited scripts, 'unspaced' for a run of CJK/Thai/... characters. */
  readonly kind: 'word' | 'unspaced';
  readonly text: string;
}

/** Splits folded text into words and runs of unspaced-script characters, in order. */
export function textRuns(folded: string): TextRun[] {
  const runs: TextRun[] = [];
  for (const match of folded.matchAll(TOKEN_RUN)) {
    if (ASCII.test(match[0])) {
      runs.push({ kind: 'word', text: match[0] });
      continue;
    }
    let current = '';
    let currentKind: TextRun['kind'] | null = null;
    for (const ch of match[0]) {
      const kind: TextRun['kind'] = UNSPACED_CHAR.test(ch) ? 'unspaced' : 'word';
      if (kind !== currentKind && current !== '') {
        runs.push({ kind: currentKind ?? kind, text: current });
        current = '';
      }
      currentKind = kind;
      current += ch;
    }
    if (current !== '' && currentKind !== null) runs.push({ kind: currentKind, text: current });
  }
  return runs;
}
