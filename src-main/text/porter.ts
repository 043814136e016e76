// Martin Porter's 1980 English stemmer (the algorithm FTS5's `porter` tokenizer also follows),
// so the embedder and the full-text index conflate the same word forms. Lower-case ASCII letters and digits only (as FTS5 does).

const STEP2: Record<string, string> = {
  ational: 'ate',
  tional: 'tion',
  enci: 'ence',
  anci: 'ance',
  izer: 'ize',
  bli: 'ble',
  alli: 'al',
  entli: 'ent',
  eli: 'e',
  ousli: 'ous',
  ization: 'ize',
  ation: 'ate',
  ator: 'ate',
  alism: 'al',
  iveness: 'ive',
  fulness: 'ful',
  ousness: 'ous',
  aliti: 'al',
  iviti: 'ive',
  biliti: 'ble',
  logi: 'log',
};
const STEP3: Record<string, string> = {
  icate: 'ic',
  ative: '',
  alize: 'al',
  iciti: 'ic',
  ical: 'ic',
  ful: '',
  ness: '',
};

const c = '[^aeiou]';
const v = '[aeiouy]';
const C = `${c}[^aeiouy]*`;
const V = `${v}[aeiou]*`;
const MGR0 = new RegExp(`^(${C})?${V}${C}`); // measure > 0
const MEQ1 = new RegExp(`^(${C})?${V}${C}(${V})?$`); // measure = 1
const MGR1 = new RegExp(`^(${C})?${V}${C}${V}${C}`); // measure > 1
const HAS_VOWEL = new RegExp(`^(${C})?${v}`);
const CVC = new RegExp(`^${C}${v}[^aeiouwxy]$`);
const DOUBLE_END = /([^aeiouylsz])\1$/;

const STEP2_RE = /^(.+?)(ational|tional|enci|anci|izer|bli|alli|entli|eli|ousli|ization|ation|ator|alism|iveness|fulness|ousness|aliti|iviti|biliti|logi)$/;
const STEP3_RE = /^(.+?)(icate|ative|alize|iciti|ical|ful|ness)$/;
const STEP4_RE = /^(.+?)(al|ance|ence|er|ic|able|ible|ant|ement|ment|ent|ou|ism|ate|iti|ous|ive|ize)$/;
const STEP4_ION = /^(.+?)(s|t)(ion)$/;

export function porterStem(word: string): string {
  if (word.length < 3 || !/^[a-z0-9]+$/.test(word)) return word;
  let w = word;
  const startsWithY = w.startsWith('y');
  if (startsWithY) w = `Y${w.slice(1)}`;

  // Step 1a: plurals.
  if (/^(.+?)(ss|i)es$/.test(w)) w = w.replace(/^(.+?)(ss|i)es$/, '$1$2');
  else if (/^(.+?)([^s])s$/.test(w)) w = w.replace(/^(.+?)([^s])s$/, '$1$2');

  // Step 1b: -eed, -ed, -ing.
  let m = /^(.+?)eed$/.exec(w);
  if (m) {
    if (MGR0.test(m[1]!)) w = w.slice(0, -1);
  } else if ((m = /^(.+?)(ed|ing)$/.exec(w)) && HAS_VOWEL.test(m[1]!)) {
    w = m[1]!;
    if (/(at|bl|iz)$/.test(w)) w += 'e';
    else if (DOUBLE_END.test(w)) w = w.slice(0, -1);
    else if (CVC.test(w)) w += 'e';
  }

  // Step 1c: y -> i after a vowel-bearing stem.
  if ((m = /^(.+?)y$/.exec(w)) && HAS_VOWEL.test(m[1]!)) w = `${m[1]!}i`;

  if ((m = STEP2_RE.exec(w)) && MGR0.test(m[1]!)) w = m[1]! + STEP2[m[2]!]!;
  if ((m = STEP3_RE.exec(w)) && MGR0.test(m[1]!)) w = m[1]! + STEP3[m[2]!]!;

  if ((m = STEP4_RE.exec(w))) {
    if (MGR1.test(m[1]!)) w = m[1]!;
  } else if ((m = STEP4_ION.exec(w))) {
    const stem = m[1]! + m[2]!;
    if (MGR1.test(stem)) w = stem;
  }

  // Step 5: final -e, then -ll.
  if ((m = /^(.+?)e$/.exec(w))) {
    const stem = m[1]!;
    if (MGR1.test(stem) || (MEQ1.test(stem) && !CVC.test(stem))) w = stem;
  }
  if (/ll$/.test(w) && MGR1.test(w)) w = w.slice(0, -1);

  if (startsWithY) w = `y${w.slice(1)}`;
  return w;
}

/** The most stems one cache holds (it is cleared beyond that). */
const STEM_CACHE_MAX = 50_000;

/**
 * porterStem through the caller's cache of stems already computed. The caller owns the cache and
 * its life (an embedder, one search): none is shared by the whole process.
 */
export function porterStemCached(word: string, cache: Map<string, string>): string {
  let stem = cache.get(word);
  if (stem === undefined) {
    stem = porterStem(word);
    if (cache.size > STEM_CACHE_MAX) cache.clear();
    cache.set(word, stem);
  }
  return stem;
}
