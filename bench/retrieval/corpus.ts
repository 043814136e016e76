// Writes the benchmark's document folder: ~10 chunks per file, enough files for the target
// chunk count, calibrated with the product's own parser and chunker so the count comes out right.
import fs from 'node:fs';
import path from 'node:path';
import { chunkDocument } from '../../src-main/ingest/chunker.js';
import { parseFile } from '../../src-main/ingest/parsers/index.js';
import { DEFAULT_CHUNKER } from '../../src-main/embed/settings.js';
import { generateDocument, rng, type MarkovText } from './generator.js';

export const CHUNKS_PER_FILE = 10;

async function chunksOf(file: string): Promise<number> {
  const parsed = await parseFile(file, { maxBytes: 64 << 20 });
  return chunkDocument(parsed, DEFAULT_CHUNKER).length;
}

/** Mean chunks per document at `words` words, measured on `samples` generated documents. */
async function meanChunks(gen: MarkovText, dir: string, words: number, samples: number, seed: number): Promise<number> {
  const r = rng(seed);
  let total = 0;
  for (let i = 0; i < samples; i++) {
    const doc = generateDocument(gen, r, i, words);
    const file = path.join(dir, doc.name);
    fs.writeFileSync(file, doc.text);
    total += await chunksOf(file);
    fs.rmSync(file);
  }
  return total / samples;
}

export interface CorpusInfo {
  files: number;
  wordsPerFile: number;
  predictedChunks: number;
  bytes: number;
}

/** Generates the corpus for `targetChunks` chunks into `dir` (subfolders of 1,000 files). */
export async function writeCorpus(gen: MarkovText, dir: string, seed: number, targetChunks: number): Promise<CorpusInfo> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const calib = path.join(dir, '.calibration');
  fs.mkdirSync(calib);
  let words = 2000;
  let mean = await meanChunks(gen, calib, words, 40, seed ^ 0x5eed);
  words = Math.round((words * CHUNKS_PER_FILE) / mean);
  mean = await meanChunks(gen, calib, words, 200, seed ^ 0xca1b);
  fs.rmSync(calib, { recursive: true });
  const files = Math.max(1, Math.round(targetChunks / mean));
  const r = rng(seed);
  let bytes = 0;
  for (let i = 0; i < files; i++) {
    const sub = path.join(dir, `part-${String(Math.floor(i / 1000)).padStart(3, '0')}`);
    if (i % 1000 === 0) fs.mkdirSync(sub, { mode: 0o700 });
    const doc = generateDocument(gen, r, i, words);
    fs.writeFileSync(path.join(sub, doc.name), doc.text);
    bytes += Buffer.byteLength(doc.text);
  }
  return { files, wordsPerFile: words, predictedChunks: Math.round(files * mean), bytes };
}
