// Writes tiny random-weight GGUF models that llama.cpp loads and runs (they generate nonsense):
// enough to test loading, streaming, grammars, embeddings, ranking and context disposal for
// real, with no downloaded weights. Key and tensor names follow llama.cpp's gguf-py constants.
import fs from 'node:fs';
import { mulberry32 } from '../../src-shared/seeded-random.js';

enum T {
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
}

type Value =
  | { t: 'u32'; v: number }
  | { t: 'f32'; v: number }
  | { t: 'bool'; v: boolean }
  | { t: 'str'; v: string }
  | { t: 'strs'; v: string[] }
  | { t: 'f32s'; v: number[] }
  | { t: 'i32s'; v: number[] };

interface Tensor {
  name: string;
  /** ggml order: ne0 (the row length) first. */
  dims: number[];
  data: Float32Array;
}

class Buf {
  parts: Buffer[] = [];
  size = 0;
  push(b: Buffer): void {
    this.parts.push(b);
    this.size += b.length;
  }
  u32(n: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    this.push(b);
  }
  i32(n: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32LE(n);
    this.push(b);
  }
  u64(n: number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(n));
    this.push(b);
  }
  f32(n: number): void {
    const b = Buffer.alloc(4);
    b.writeFloatLE(n);
    this.push(b);
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.push(b);
  }
}

function writeValue(b: Buf, value: Value): void {
  switch (value.t) {
    case 'u32':
      b.u32(T.UINT32);
      b.u32(value.v);
      break;
    case 'f32':
      b.u32(T.FLOAT32);
      b.f32(value.v);
      break;
    case 'bool':
      b.u32(T.BOOL);
      b.push(Buffer.from([value.v ? 1 : 0]));
      break;
    case 'str':
      b.u32(T.STRING);
      b.str(value.v);
      break;
    case 'strs':
      b.u32(T.ARRAY);
      b.u32(T.STRING);
      b.u64(value.v.length);
      for (const s of value.v) b.str(s);
      break;
    case 'f32s':
      b.u32(T.ARRAY);
      b.u32(T.FLOAT32);
      b.u64(value.v.length);
      for (const n of value.v) b.f32(n);
      break;
    case 'i32s':
      b.u32(T.ARRAY);
      b.u32(T.INT32);
      b.u64(value.v.length);
      for (const n of value.v) b.i32(n);
      break;
  }
}

const ALIGN = 32;

function encodeGguf(kv: [string, Value][], tensors: Tensor[]): Buffer {
  const b = new Buf();
  b.push(Buffer.from('GGUF', 'ascii'));
  b.u32(3);
  b.u64(tensors.length);
  b.u64(kv.length);
  for (const [k, v] of kv) {
    b.str(k);
    writeValue(b, v);
  }
  let offset = 0;
  const offsets: number[] = [];
  for (const t of tensors) {
    b.str(t.name);
    b.u32(t.dims.length);
    for (const d of t.dims) b.u64(d);
    b.u32(0); // GGML_TYPE_F32
    b.u64(offset);
    offsets.push(offset);
    offset += Math.ceil((t.data.length * 4) / ALIGN) * ALIGN;
  }
  b.push(Buffer.alloc((ALIGN - (b.size % ALIGN)) % ALIGN));
  for (const t of tensors) {
    const bytes = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    b.push(bytes);
    b.push(Buffer.alloc((ALIGN - (bytes.length % ALIGN)) % ALIGN));
  }
  return Buffer.concat(b.parts);
}

/** mulberry32 (src-shared/seeded-random.ts): the same seed writes the same bytes, so a fixture's sha256 is stable. */
const rng = mulberry32;

const WORDS = [
  'the',
  'a',
  'client',
  'report',
  'invoice',
  'project',
  'meeting',
  'budget',
  'contract',
  'team',
  'plan',
  'data',
  'hello',
  'world',
  'answer',
  'question',
  'and',
  'of',
  'to',
  'in',
  'is',
  'for',
  'on',
  'with',
  'as',
  'by',
  'name',
  'query',
  'search',
  'note',
  'save',
  'tool',
  'yes',
  'no',
  'ok',
  'model',
  'local',
  'tenant',
  'file',
  'text',
];

export interface TinyVocab {
  tokens: string[];
  scores: number[];
  types: number[];
}

/** A SentencePiece ('llama') vocabulary: control tokens, the 256 byte tokens, letters and words. */
export function tinyVocab(): TinyVocab {
  const tokens: string[] = ['<unk>', '<s>', '</s>', '<|im_start|>', '<|im_end|>'];
  const types: number[] = [2, 3, 3, 3, 3];
  const scores: number[] = [0, 0, 0, 0, 0];
  for (let i = 0; i < 256; i++) {
    tokens.push(`<0x${i.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(6);
    scores.push(0);
  }
  const pieces = new Set<string>(['▁']);
  for (const c of 'abcdefghijklmnopqrstuvwxyz') {
    pieces.add(c);
    pieces.add(`▁${c}`);
  }
  for (const w of WORDS) pieces.add(`▁${w}`);
  for (const p of pieces) {
    tokens.push(p);
    types.push(1);
    // SentencePiece merges toward higher scores: longer pieces win.
    scores.push(-100 + p.length);
  }
  return { tokens, scores, types };
}

export type TinyKind = 'chat' | 'embedding' | 'reranking';

export interface TinyModelOptions {
  kind?: TinyKind;
  seed?: number;
  embd?: number;
  layers?: number;
  heads?: number;
  ff?: number;
  contextLength?: number;
  name?: string;
}

const CHATML =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** The bytes of a tiny llama-architecture model: chat, or embedding (mean pooling). */
export function tinyModelBytes(opts: TinyModelOptions = {}): Buffer {
  const kind = opts.kind ?? 'chat';
  const embd = opts.embd ?? 64;
  const layers = opts.layers ?? 2;
  const heads = opts.heads ?? 4;
  const ff = opts.ff ?? 128;
  const ctx = opts.contextLength ?? 2048;
  const rand = rng(opts.seed ?? 1);
  const vocab = tinyVocab();
  const nVocab = vocab.tokens.length;
  const weights = (n: number, scale: number): Float32Array => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = (rand() * 2 - 1) * scale;
    return a;
  };
  const ones = (n: number): Float32Array => new Float32Array(n).fill(1);
  const s = 1 / Math.sqrt(embd);
  const tensors: Tensor[] = [
    { name: 'token_embd.weight', dims: [embd, nVocab], data: weights(embd * nVocab, 1) },
    { name: 'output_norm.weight', dims: [embd], data: ones(embd) },
  ];
  if (kind !== 'embedding') tensors.push({ name: 'output.weight', dims: [embd, nVocab], data: weights(embd * nVocab, s * 4) });
  for (let l = 0; l < layers; l++) {
    const p = `blk.${l}.`;
    tensors.push(
      { name: `${p}attn_norm.weight`, dims: [embd], data: ones(embd) },
      { name: `${p}attn_q.weight`, dims: [embd, embd], data: weights(embd * embd, s) },
      { name: `${p}attn_k.weight`, dims: [embd, embd], data: weights(embd * embd, s) },
      { name: `${p}attn_v.weight`, dims: [embd, embd], data: weights(embd * embd, s) },
      { name: `${p}attn_output.weight`, dims: [embd, embd], data: weights(embd * embd, s) },
      { name: `${p}ffn_norm.weight`, dims: [embd], data: ones(embd) },
      { name: `${p}ffn_gate.weight`, dims: [embd, ff], data: weights(embd * ff, s) },
      { name: `${p}ffn_up.weight`, dims: [embd, ff], data: weights(embd * ff, s) },
      { name: `${p}ffn_down.weight`, dims: [ff, embd], data: weights(ff * embd, 1 / Math.sqrt(ff)) },
    );
  }
  const kv: [string, Value][] = [
    ['general.architecture', { t: 'str', v: 'llama' }],
    ['general.name', { t: 'str', v: opts.name ?? `tiny-${kind}` }],
    ['general.file_type', { t: 'u32', v: 0 }],
    ['general.alignment', { t: 'u32', v: ALIGN }],
    ['llama.context_length', { t: 'u32', v: ctx }],
    ['llama.embedding_length', { t: 'u32', v: embd }],
    ['llama.block_count', { t: 'u32', v: layers }],
    ['llama.feed_forward_length', { t: 'u32', v: ff }],
    ['llama.attention.head_count', { t: 'u32', v: heads }],
    ['llama.attention.head_count_kv', { t: 'u32', v: heads }],
    ['llama.attention.layer_norm_rms_epsilon', { t: 'f32', v: 1e-5 }],
    ['llama.rope.dimension_count', { t: 'u32', v: embd / heads }],
    ['llama.rope.freq_base', { t: 'f32', v: 10000 }],
    ['llama.vocab_size', { t: 'u32', v: nVocab }],
    ['tokenizer.ggml.model', { t: 'str', v: 'llama' }],
    ['tokenizer.ggml.tokens', { t: 'strs', v: vocab.tokens }],
    ['tokenizer.ggml.scores', { t: 'f32s', v: vocab.scores }],
    ['tokenizer.ggml.token_type', { t: 'i32s', v: vocab.types }],
    ['tokenizer.ggml.unknown_token_id', { t: 'u32', v: 0 }],
    ['tokenizer.ggml.bos_token_id', { t: 'u32', v: 1 }],
    ['tokenizer.ggml.eos_token_id', { t: 'u32', v: kind === 'chat' ? 4 : 2 }],
    ['tokenizer.ggml.add_bos_token', { t: 'bool', v: true }],
    ['tokenizer.ggml.add_eos_token', { t: 'bool', v: kind !== 'chat' }],
  ];
  if (kind === 'chat') kv.push(['tokenizer.chat_template', { t: 'str', v: CHATML }]);
  if (kind === 'embedding') kv.push(['llama.pooling_type', { t: 'u32', v: 1 }]);
  return encodeGguf(kv, tensors);
}

/** A tiny BERT-architecture cross-encoder with a classification head (cls, cls.output): a reranker. */
export function tinyRerankerBytes(opts: TinyModelOptions = {}): Buffer {
  const embd = opts.embd ?? 64;
  const layers = opts.layers ?? 2;
  const heads = opts.heads ?? 4;
  const ff = opts.ff ?? 128;
  const ctx = opts.contextLength ?? 512;
  const rand = rng(opts.seed ?? 3);
  const vocab = tinyVocab();
  const nVocab = vocab.tokens.length;
  const weights = (n: number, scale: number): Float32Array => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = (rand() * 2 - 1) * scale;
    return a;
  };
  const ones = (n: number): Float32Array => new Float32Array(n).fill(1);
  const zeros = (n: number): Float32Array => new Float32Array(n);
  const s = 1 / Math.sqrt(embd);
  const tensors: Tensor[] = [
    { name: 'token_embd.weight', dims: [embd, nVocab], data: weights(embd * nVocab, 1) },
    { name: 'token_types.weight', dims: [embd, 2], data: weights(embd * 2, 0.1) },
    { name: 'position_embd.weight', dims: [embd, ctx], data: weights(embd * ctx, 0.1) },
    { name: 'token_embd_norm.weight', dims: [embd], data: ones(embd) },
    { name: 'token_embd_norm.bias', dims: [embd], data: zeros(embd) },
  ];
  for (let l = 0; l < layers; l++) {
    const p = `blk.${l}.`;
    for (const m of ['attn_q', 'attn_k', 'attn_v', 'attn_output']) {
      tensors.push({ name: `${p}${m}.weight`, dims: [embd, embd], data: weights(embd * embd, s) }, { name: `${p}${m}.bias`, dims: [embd], data: zeros(embd) });
    }
    tensors.push(
      { name: `${p}attn_output_norm.weight`, dims: [embd], data: ones(embd) },
      { name: `${p}attn_output_norm.bias`, dims: [embd], data: zeros(embd) },
      { name: `${p}ffn_up.weight`, dims: [embd, ff], data: weights(embd * ff, s) },
      { name: `${p}ffn_up.bias`, dims: [ff], data: zeros(ff) },
      { name: `${p}ffn_down.weight`, dims: [ff, embd], data: weights(ff * embd, 1 / Math.sqrt(ff)) },
      { name: `${p}ffn_down.bias`, dims: [embd], data: zeros(embd) },
      { name: `${p}layer_output_norm.weight`, dims: [embd], data: ones(embd) },
      { name: `${p}layer_output_norm.bias`, dims: [embd], data: zeros(embd) },
    );
  }
  tensors.push(
    { name: 'cls.weight', dims: [embd, embd], data: weights(embd * embd, s) },
    { name: 'cls.bias', dims: [embd], data: zeros(embd) },
    { name: 'cls.output.weight', dims: [embd, 1], data: weights(embd, 1) },
    { name: 'cls.output.bias', dims: [1], data: zeros(1) },
  );
  const kv: [string, Value][] = [
    ['general.architecture', { t: 'str', v: 'bert' }],
    ['general.name', { t: 'str', v: opts.name ?? 'tiny-reranking' }],
    ['general.file_type', { t: 'u32', v: 0 }],
    ['general.alignment', { t: 'u32', v: ALIGN }],
    ['bert.context_length', { t: 'u32', v: ctx }],
    ['bert.embedding_length', { t: 'u32', v: embd }],
    ['bert.block_count', { t: 'u32', v: layers }],
    ['bert.feed_forward_length', { t: 'u32', v: ff }],
    ['bert.attention.head_count', { t: 'u32', v: heads }],
    ['bert.attention.layer_norm_epsilon', { t: 'f32', v: 1e-12 }],
    ['bert.attention.causal', { t: 'bool', v: false }],
    ['bert.pooling_type', { t: 'u32', v: 4 }],
    ['tokenizer.ggml.model', { t: 'str', v: 'llama' }],
    ['tokenizer.ggml.tokens', { t: 'strs', v: vocab.tokens }],
    ['tokenizer.ggml.scores', { t: 'f32s', v: vocab.scores }],
    ['tokenizer.ggml.token_type', { t: 'i32s', v: vocab.types }],
    ['tokenizer.ggml.token_type_count', { t: 'u32', v: 2 }],
    ['tokenizer.ggml.unknown_token_id', { t: 'u32', v: 0 }],
    ['tokenizer.ggml.bos_token_id', { t: 'u32', v: 1 }],
    ['tokenizer.ggml.eos_token_id', { t: 'u32', v: 2 }],
    ['tokenizer.ggml.seperator_token_id', { t: 'u32', v: 2 }],
    ['tokenizer.ggml.add_bos_token', { t: 'bool', v: true }],
    ['tokenizer.ggml.add_eos_token', { t: 'bool', v: true }],
  ];
  return encodeGguf(kv, tensors);
}

/** Writes a tiny model to `file` and returns its path. */
export function writeTinyModel(file: string, opts: TinyModelOptions = {}): string {
  fs.writeFileSync(file, opts.kind === 'reranking' ? tinyRerankerBytes(opts) : tinyModelBytes(opts));
  return file;
}
