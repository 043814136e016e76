// Prints how long chunkDocument takes on 2, 10 and 20 MB of prose, and the heap it leaves in use.
import { chunkDocument } from '../src-main/ingest/chunker.js';

const WORDS = (
  'the client asked for a revised budget before the quarterly review and the team agreed to send ' +
  'figures on monday while legal checks the contract terms for the new supplier in lyon'
).split(' ');

function prose(bytes: number): string {
  let state = 42;
  const next = () => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const parts: string[] = [];
  let length = 0;
  while (length < bytes) {
    const words = Array.from({ length: 6 + Math.floor(next() * 15) }, () => WORDS[Math.floor(next() * WORDS.length)]);
    const sentence = words.join(' ');
    const text = sentence.charAt(0).toUpperCase() + sentence.slice(1) + (next() < 0.2 ? '.\n\n' : '. ');
    parts.push(text);
    length += text.length;
  }
  return parts.join('');
}

chunkDocument({ sections: [{ text: prose(200_000) }] }); // warm-up
for (const mb of [2, 10, 20]) {
  const text = prose(mb * 1_000_000);
  const started = performance.now();
  const chunks = chunkDocument({ sections: [{ text }] }, { chunkTokens: 300, overlapTokens: 50 });
  const seconds = (performance.now() - started) / 1000;
  const heapMb = process.memoryUsage().heapUsed / 1e6;
  console.log(`${mb} MB: ${chunks.length} chunks in ${seconds.toFixed(2)} s = ${(mb / seconds).toFixed(1)} MB/s; heap ${heapMb.toFixed(0)} MB`);
}
