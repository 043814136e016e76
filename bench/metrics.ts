// Ranking metrics as TREC defines them: linear graded gains, log2 discount, ideal DCG from the
// judgements (not from the run), recall over every judged-relevant document.

/** Judged gains of one query: document id -> gain (> 0 means relevant). */
export type Judgements = ReadonlyMap<string, number>;

export function dcg(gains: readonly number[]): number {
  let sum = 0;
  gains.forEach((g, i) => {
    sum += g / Math.log2(i + 2);
  });
  return sum;
}

export function ndcgAt(ranked: readonly string[], judged: Judgements, k: number): number {
  const gains = ranked.slice(0, k).map((id) => judged.get(id) ?? 0);
  const ideal = [...judged.values()]
    .filter((g) => g > 0)
    .sort((a, b) => b - a)
    .slice(0, k);
  const idcg = dcg(ideal);
  return idcg === 0 ? 0 : dcg(gains) / idcg;
}

export function recallAt(ranked: readonly string[], judged: Judgements, k: number): number {
  const relevant = [...judged.entries()].filter(([, g]) => g > 0).map(([id]) => id);
  if (relevant.length === 0) return 0;
  const top = new Set(ranked.slice(0, k));
  return relevant.filter((id) => top.has(id)).length / relevant.length;
}

export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return 0;
  const sorted = [...xs].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * p;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}
