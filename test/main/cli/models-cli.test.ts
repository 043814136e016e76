import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinyModelBytes } from '../../helpers/gguf-writer.js';
import { tempDir } from '../../helpers/vault.js';

// `bulkhead models …` in a child process (dist, built by npm test), against a loopback file server.
const BIN = path.resolve('bin/bulkhead.js');

function cli(dataDir: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '--data-dir', dataDir, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const chat = tinyModelBytes({ kind: 'chat' });
let server: http.Server;
let base: string;
let data: string;

beforeAll(async () => {
  server = http.createServer((_req, res) => res.writeHead(200, { 'Content-Length': chat.length }).end(chat));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  data = tempDir('bulkhead-models-cli-');
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('bulkhead models', () => {
  it('adds a file and a URL, lists them with --json, and removes one', async () => {
    const file = path.join(data, 'local-chat.gguf');
    fs.writeFileSync(file, chat);
    expect((await cli(data, ['models', 'add', file])).code).toBe(0);
    const sha = crypto.createHash('sha256').update(chat).digest('hex');
    const url = await cli(data, ['--json', 'models', 'add', `${base}/m/remote.gguf`, '--sha256', sha]);
    expect(url.code).toBe(0);
    expect(JSON.parse(url.stdout)).toMatchObject({ name: 'remote.gguf', kind: 'chat' });
    const list = await cli(data, ['--json', 'models', 'list']);
    expect(list.code).toBe(0);
    const parsed = JSON.parse(list.stdout) as { dir: string; models: { name: string; architecture: string; contextLength: number }[] };
    expect(parsed.dir).toBe(path.join(data, 'models'));
    expect(parsed.models.map((m) => [m.name, m.architecture, m.contextLength])).toEqual([
      ['local-chat.gguf', 'llama', 2048],
      ['remote.gguf', 'llama', 2048],
    ]);
    const text = await cli(data, ['models', 'list']);
    expect(text.stdout).toMatch(/local-chat\.gguf\s+chat\s+llama\s+ALL_F32\s+2048/);
    expect((await cli(data, ['models', 'remove', 'remote.gguf'])).code).toBe(0);
    expect((await cli(data, ['models', 'remove', 'remote.gguf'])).code).toBe(4);
  });

  it('exits with a typed error for a non-GGUF file, a wrong checksum and a bad name', async () => {
    const junk = path.join(data, 'junk.gguf');
    fs.writeFileSync(junk, 'not a model');
    const bad = await cli(data, ['--json', 'models', 'add', junk]);
    expect(bad.code).toBe(5);
    expect(JSON.parse(bad.stdout).error.code).toBe('MODEL_INVALID');
    const sum = await cli(data, ['--json', 'models', 'add', `${base}/x.gguf`, '--sha256', '0'.repeat(64)]);
    expect(sum.code).toBe(5);
    expect(JSON.parse(sum.stdout).error.code).toBe('CHECKSUM_MISMATCH');
    expect((await cli(data, ['models', 'remove', '../../etc/passwd'])).code).toBe(2);
  });
});
