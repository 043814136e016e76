import { foldText, textRuns } from './fold.js';
import { ENGLISH_STOPWORDS } from './stopwords.js';

/**
 * The words of a text as the term index sees them: folded words of spaced scripts, no stop words,
 * numbers in. The term index, the term statistics and the learned term space (embed/term-space.ts)
 * all read a text through this one function, so they agree on its words.
 */
export function indexWords(text: string): string[] {
  return textRuns(foldText(text))
    .filter((run) => run.kind === 'word' && !ENGLISH_STOPWORDS.has(run.text))
    .map((run) => run.text);
}
