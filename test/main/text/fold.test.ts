import { describe, expect, it } from 'vitest';
import { foldText, textRuns } from '../../../src-main/text/fold.js';

describe('foldText', () => {
  it('drops Latin accents, lower-cases and unfolds compatibility forms', () => {
    expect(foldText('Café CRÈME Ångström naïve')).toBe('cafe creme angstrom naive');
    expect(foldText('ﬁnite ＡＢＣ ①')).toBe('finite abc 1');
  });

  it('keeps marks that change a word in other scripts (Devanagari vowel signs, kana voicing)', () => {
    expect(foldText('हिन्दी')).toBe('हिन्दी'.normalize('NFC'));
    expect(foldText('が')).toBe('が');
    expect(foldText('한국어')).toBe('한국어');
  });
});

describe('textRuns', () => {
  it('splits words from runs of unspaced-script characters', () => {
    expect(textRuns(foldText('Tokyo東京都in 2024年'))).toEqual([
      { kind: 'word', text: 'tokyo' },
      { kind: 'unspaced', text: '東京都' },
      { kind: 'word', text: 'in' },
      { kind: 'word', text: '2024' },
      { kind: 'unspaced', text: '年' },
    ]);
  });

  it('finds nothing in punctuation and symbols', () => {
    expect(textRuns('"*" NEAR( ) ^ -- ... ???')).toEqual([{ kind: 'word', text: 'NEAR' }]);
    expect(textRuns('!!! *** ---')).toEqual([]);
  });
});
