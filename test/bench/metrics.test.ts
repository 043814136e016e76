import { describe, expect, it } from 'vitest';
import { dcg, ndcgAt, percentile, recallAt } from '../../bench/metrics.js';

// Judged gains a:3, b:2, c:1; x and y unjudged.
const judged = new Map([
  ['a', 3],
  ['b', 2],
  ['c', 1],
]);

describe('nDCG and recall, computed by hand', () => {
  it('DCG uses linear gains and a log2(rank + 1) discount', () => {
    // 3/log2(2) + 2/log2(3) + 1/log2(4) = 3 + 1.261860 + 0.5
    expect(dcg([3, 2, 1])).toBeCloseTo(4.76186, 5);
  });

  it('nDCG@3 of [b, x, a] = (2 + 3/2) / 4.76186 = 0.735003', () => {
    expect(ndcgAt(['b', 'x', 'a'], judged, 3)).toBeCloseTo(3.5 / 4.76186, 5);
    expect(ndcgAt(['b', 'x', 'a'], judged, 3)).toBeCloseTo(0.735003, 5);
  });

  it('takes the ideal ranking from the judgements, not from the run', () => {
    // Only a is retrieved; the ideal still has a, b, c: 3 / 4.76186.
    expect(ndcgAt(['a'], judged, 3)).toBeCloseTo(0.630006, 5);
    expect(ndcgAt(['a', 'b', 'c'], judged, 3)).toBeCloseTo(1, 10);
    expect(ndcgAt(['c', 'b', 'a'], judged, 3)).toBeCloseTo((1 + 2 / Math.log2(3) + 3 / 2) / 4.76186, 5);
  });

  it('cuts both the run and the ideal at k', () => {
    // k = 1: [b] gives 2, the ideal [a] gives 3.
    expect(ndcgAt(['b', 'a'], judged, 1)).toBeCloseTo(2 / 3, 10);
  });

  it('is 0 for a run with nothing relevant and for a query with no judgement', () => {
    expect(ndcgAt(['x', 'y'], judged, 10)).toBe(0);
    expect(ndcgAt(['a'], new Map(), 10)).toBe(0);
  });

  it('recall@k counts judged-relevant documents found in the top k', () => {
    expect(recallAt(['b', 'x', 'a'], judged, 3)).toBeCloseTo(2 / 3, 10);
    expect(recallAt(['b', 'x', 'a'], judged, 1)).toBeCloseTo(1 / 3, 10);
    expect(recallAt(['x', 'y'], judged, 100)).toBe(0);
  });

  it('percentile interpolates between ranks', () => {
    expect(percentile([4, 1, 3, 2], 0.5)).toBe(2.5);
    expect(percentile([5], 0.5)).toBe(5);
  });
});
