import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { downloadModel } from '../../../src-main/models/download.js';
import { checkModelFile } from '../../../src-main/models/gguf-check.js';
import { ModelLibrary, PARTIAL_DIR_NAME } from '../../../src-main/models/library.js';
import { tinyModelBytes, tinyRerankerBytes } from '../../helpers/gguf-writer.js';

const chat = tinyModelBytes({ kind: 'chat' });
const sha = (b: Buffer): string => crypto.createHash('sha256').update(b).digest('hex');

/** A real file server on 127.0.0.1 with Range support; `cutAfter` bytes of the first N responses, then it hangs up. */
function fileServer(body: Buffer) {
  const state = { cutAfter: 0, cutTimes: 0, ignoreRange: false, requests: [] as { range: string | undefined }[] };
  const server = http.createServer((req, res) => {
    state.requests.push({ range: req.headers.range });
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m && !state.ignoreRange) {
      start = Number(m[1]);
      if (start >= body.length) {
        res.writeHead(416).end();
        return;
      }
      res.writeHead(206, { 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}`, 'Content-Length': body.length - start });
    } else res.writeHead(200, { 'Content-Length': body.length });
    const rest = body.subarray(start);
    if (state.cutTimes > 0) {
      state.cutTimes--;
      res.write(rest.subarray(0, state.cutAfter), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(rest);
  });
  return { server, state };
}

describe('the model library', () => {
  let dir: string;
  let lib: ModelLibrary;
  const srv = fileServer(chat);
  let base: string;
  beforeAll(async () => {
    await new Promise<void>((r) => srv.server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(srv.server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => srv.server.close(() => r())));
  afterEach(() => {
    srv.state.cutTimes = 0;
    srv.state.ignoreRange = false;
    srv.state.requests = [];
  });
  const fresh = (): void => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulkhead-lib-'));
    lib = new ModelLibrary(path.join(dir, 'models'));
  };

  it('adds a GGUF, lists it with what its header says, and removes it', async () => {
    fresh();
    const src = path.join(dir, 'tiny-chat.gguf');
    fs.writeFileSync(src, chat);
    fs.writeFileSync(path.join(dir, 'tiny-rank.gguf'), tinyRerankerBytes());
    await lib.addFile(src);
    await lib.addFile(path.join(dir, 'tiny-rank.gguf'));
    const { models, broken } = await lib.list();
    expect(broken).toEqual([]);
    expect(models.map((m) => [m.name, m.kind, m.architecture, m.quantisation, m.contextLength, m.sizeBytes])).toEqual([
      ['tiny-chat.gguf', 'chat', 'llama', 'ALL_F32', 2048, chat.length],
      ['tiny-rank.gguf', 'reranking', 'bert', 'ALL_F32', 512, fs.statSync(path.join(dir, 'tiny-rank.gguf')).size],
    ]);
    expect(fs.statSync(path.join(lib.dir, 'tiny-chat.gguf')).mode & 0o777).toBe(0o600);
    await expect(lib.addFile(src)).rejects.toMatchObject({ code: 'FILE_EXISTS' });
    expect(lib.remove('tiny-chat.gguf').freedBytes).toBe(chat.length);
    expect((await lib.list()).models.map((m) => m.name)).toEqual(['tiny-rank.gguf']);
    expect(() => lib.remove('tiny-chat.gguf')).toThrow(expect.objectContaining({ code: 'MODEL_NOT_FOUND' }));
    expect(() => lib.remove('../escape.gguf')).toThrow(expect.objectContaining({ code: 'INPUT_INVALID' }));
  });

  it('refuses a file that is not GGUF, a truncated one and one too big for the memory, before copying anything', async () => {
    fresh();
    const notGguf = path.join(dir, 'notes.gguf');
    fs.writeFileSync(notGguf, 'just some text, not a model at all');
    await expect(lib.addFile(notGguf)).rejects.toMatchObject({ code: 'MODEL_INVALID', message: expect.stringContaining('not a GGUF') });
    const cut = path.join(dir, 'cut.gguf');
    fs.writeFileSync(cut, chat.subarray(0, Math.floor(chat.length * 0.6)));
    await expect(lib.addFile(cut)).rejects.toMatchObject({ code: 'MODEL_INVALID', message: expect.stringContaining('truncated') });
    const headerOnly = path.join(dir, 'header.gguf');
    fs.writeFileSync(headerOnly, chat.subarray(0, 300));
    await expect(lib.addFile(headerOnly)).rejects.toMatchObject({ code: 'MODEL_INVALID' });
    const big = path.join(dir, 'big.gguf');
    fs.writeFileSync(big, chat);
    const small = new ModelLibrary(path.join(dir, 'models'), { memoryBytes: 1024 * 1024 });
    await expect(small.addFile(big)).rejects.toMatchObject({ code: 'MODEL_TOO_LARGE' });
    expect(fs.existsSync(lib.dir) ? fs.readdirSync(lib.dir) : []).toEqual([]);
  });

  it('refuses a header that claims terabytes of weights as too large for this machine', async () => {
    fresh();
    // 2^20 x 2^20 f32 weights = 4 TiB: what a hostile or mislabelled file could claim.
    const huge = tinyModelBytes({ kind: 'embedding', embd: 64, layers: 1 });
    const file = path.join(dir, 'huge.gguf');
    const idx = huge.indexOf(Buffer.from('token_embd.weight'));
    const b = Buffer.from(huge);
    // dims follow the name and n_dims: ne0 = 64, ne1 = 353; make ne1 enormous.
    b.writeBigUInt64LE(1n << 36n, idx + 'token_embd.weight'.length + 4 + 8);
    fs.writeFileSync(file, b);
    await expect(checkModelFile(file)).rejects.toMatchObject({ code: 'MODEL_TOO_LARGE' });
  });

  it('downloads from a URL with progress and a matching sha256', async () => {
    fresh();
    const seen: number[] = [];
    const r = await downloadModel(lib, `${base}/files/tiny-chat.gguf`, { sha256: sha(chat), onProgress: (p) => seen.push(p.receivedBytes) });
    expect(r.sha256).toBe(sha(chat));
    expect(r.model).toMatchObject({ name: 'tiny-chat.gguf', kind: 'chat', sizeBytes: chat.length });
    expect(seen.at(-1)).toBe(chat.length);
    expect(fs.readFileSync(path.join(lib.dir, 'tiny-chat.gguf')).equals(chat)).toBe(true);
    expect(fs.readdirSync(path.join(lib.dir, PARTIAL_DIR_NAME))).toEqual([]);
  });

  it('a cut connection resumes with a Range request and ends with the exact file', async () => {
    fresh();
    srv.state.cutAfter = 100_000;
    srv.state.cutTimes = 2;
    const r = await downloadModel(lib, `${base}/tiny-chat.gguf`, { sha256: sha(chat), retries: 3 });
    expect(r.attempts).toBe(3);
    expect(r.resumedFrom).toEqual([100_000, 200_000]);
    expect(srv.state.requests.map((q) => q.range)).toEqual([undefined, 'bytes=100000-', 'bytes=200000-']);
    expect(fs.readFileSync(r.model.path).equals(chat)).toBe(true);
  });

  it('a download that keeps breaking fails typed, keeps its partial, and the next run resumes it', async () => {
    fresh();
    srv.state.cutAfter = 150_000;
    srv.state.cutTimes = 1;
    await expect(downloadModel(lib, `${base}/tiny-chat.gguf`, { retries: 0 })).rejects.toMatchObject({ code: 'DOWNLOAD_FAILED' });
    const parts = fs.readdirSync(path.join(lib.dir, PARTIAL_DIR_NAME));
    expect(parts).toHaveLength(1);
    expect(fs.statSync(path.join(lib.dir, PARTIAL_DIR_NAME, parts[0]!)).size).toBe(150_000);
    expect((await lib.list()).models).toEqual([]);
    const r = await downloadModel(lib, `${base}/tiny-chat.gguf`, { retries: 0 });
    expect(r.resumedFrom).toEqual([150_000]);
    expect(fs.readFileSync(r.model.path).equals(chat)).toBe(true);
  });

  it('a server that ignores Range restarts from zero rather than appending a second copy', async () => {
    fresh();
    srv.state.cutAfter = 50_000;
    srv.state.cutTimes = 1;
    srv.state.ignoreRange = true;
    const r = await downloadModel(lib, `${base}/tiny-chat.gguf`, { sha256: sha(chat), retries: 1 });
    expect(fs.readFileSync(r.model.path).equals(chat)).toBe(true);
  });

  it('a wrong checksum adds nothing and leaves no partial file', async () => {
    fresh();
    await expect(downloadModel(lib, `${base}/tiny-chat.gguf`, { sha256: 'a'.repeat(64) })).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' });
    expect((await lib.list()).models).toEqual([]);
    expect(fs.readdirSync(path.join(lib.dir, PARTIAL_DIR_NAME))).toEqual([]);
  });

  it('refuses non-http URLs and a downloaded file that is not a model', async () => {
    fresh();
    await expect(downloadModel(lib, 'file:///etc/passwd')).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    await expect(downloadModel(lib, `${base.replace('http://', 'http://u:p@')}/x.gguf`)).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    const text = http.createServer((_req, res) => res.end('<html>not found</html>'));
    await new Promise<void>((r) => text.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(text.address() as AddressInfo).port}/m.gguf`;
    await expect(downloadModel(lib, url)).rejects.toMatchObject({ code: 'MODEL_INVALID' });
    await new Promise<void>((r) => text.close(() => r()));
    expect((await lib.list()).models).toEqual([]);
  });
});
