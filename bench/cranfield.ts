import fs from 'node:fs';
import path from 'node:path';
import type { Judgements } from './metrics.js';

export interface CranfieldDoc {
  readonly id: string;
  readonly title: string;
  readonly text: string;
}
export interface CranfieldQuery {
  readonly id: string;
  readonly text: string;
}

export interface Cranfield {
  readonly docs: CranfieldDoc[];
  readonly queries: CranfieldQuery[];
  readonly qrels: Map<string, Map<string, number>>;
}

/** Collections whose queries are documents of the corpus: BEIR leaves a query's own id out of its ranking. */
export const OWN_ID_COLLECTIONS: ReadonlySet<string> = new Set(['arguana', 'quora']);

export const CRANFIELD_DIR = process.env['CRANFIELD_DIR'] ?? '/work/shared/datasets/cranfield';

function jsonl(file: string): Record<string, unknown>[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

export function loadCranfield(dir = CRANFIELD_DIR): Cranfield {
  const docs = jsonl(path.join(dir, 'corpus.jsonl')).map((d) => ({ id: String(d['_id']), title: String(d['title'] ?? ''), text: String(d['text'] ?? '') }));
  const queries = jsonl(path.join(dir, 'queries.jsonl')).map((q) => ({ id: String(q['_id']), text: String(q['text'] ?? '') }));
  const qrels = new Map<string, Map<string, number>>();
  const lines = fs
    .readFileSync(path.join(dir, 'qrels', 'test.tsv'), 'utf8')
    .split('\n')
    .slice(1);
  for (const line of lines) {
    const [qid, did, score] = line.trim().split('\t');
    if (qid === undefined || did === undefined || score === undefined) continue;
    let judged = qrels.get(qid);
    if (!judged) qrels.set(qid, (judged = new Map()));
    judged.set(did, Number(score));
  }
  return { docs, queries, qrels };
}

export function judgementsFor(c: Cranfield, queryId: string): Judgements {
  return c.qrels.get(queryId) ?? new Map();
}
