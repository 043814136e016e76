import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConsoleSession } from '../../../src-main/api/session.js';
import { safeFileName, UploadStore } from '../../../src-main/api/uploads.js';
import { tempDir } from '../../helpers/vault.js';

describe('uploads', () => {
  it('keeps only the last path segment of a browser file name, without control characters', () => {
    expect(safeFileName('../../etc/passwd')).toBe('passwd');
    expect(safeFileName('C:\\Users\\x\\report.pdf')).toBe('report.pdf');
    expect(safeFileName('a\u0000b\u001f.md')).toBe('ab.md');
    for (const bad of ['', '..', '.', 'dir/', '\u0001']) expect(() => safeFileName(bad)).toThrow(/name/);
  });

  it('stages sealed: neither the content nor the file name is on disk', async () => {
    const dataDir = tempDir();
    const store = new UploadStore(dataDir);
    const up = await store.add('t_aaaaaaaaaaaaaaaaaaaaaaaaaa', 'Marmot plans.txt', Buffer.from('tenant text: the marmot plan'));
    const files = (fs.readdirSync(path.join(dataDir, 'uploads'), { recursive: true, encoding: 'utf8' }) as string[]).map((f) =>
      path.join(dataDir, 'uploads', f),
    );
    const sealed = files.filter((f) => fs.statSync(f).isFile());
    expect(sealed).toHaveLength(1);
    expect(fs.statSync(sealed[0]!).mode & 0o777).toBe(0o600);
    expect(files.join('\n')).not.toMatch(/Marmot/);
    expect(fs.readFileSync(sealed[0]!).includes('marmot')).toBe(false);
    const inputs = store.ingestInputs(store.take('t_aaaaaaaaaaaaaaaaaaaaaaaaaa', [up.uploadId]));
    expect((await inputs.staged.read(inputs.inputs[0]!)).toString()).toBe('tenant text: the marmot plan');
    store.sweep();
    expect(fs.existsSync(path.join(dataDir, 'uploads'))).toBe(false);
  });

  it("a new session removes what a dead process left (and old plaintext staging), never a live store's files", async () => {
    const dataDir = tempDir();
    const live = new UploadStore(dataDir);
    await live.add('t_aaaaaaaaaaaaaaaaaaaaaaaaaa', 'live.txt', Buffer.from('still waiting'));
    fs.mkdirSync(path.join(dataDir, 'uploads', 'p999999999-0123456789abcdef'));
    fs.writeFileSync(path.join(dataDir, 'uploads', 'p999999999-0123456789abcdef', 'u_x.sealed'), 'sealed bytes of a dead run');
    fs.mkdirSync(path.join(dataDir, 'uploads', 'u_0123'));
    fs.writeFileSync(path.join(dataDir, 'uploads', 'u_0123', 'left.txt'), 'tenant text left behind');
    const s = new ConsoleSession({ dataDir });
    expect(fs.readdirSync(path.join(dataDir, 'uploads'))).toEqual([expect.stringMatching(new RegExp(`^p${process.pid}-`))]);
    s.dispose();
    live.sweep();
    expect(fs.existsSync(path.join(dataDir, 'uploads'))).toBe(false);
  });

  it('refuses a file over the size limit and leaves nothing of it', async () => {
    const dataDir = tempDir();
    const store = new UploadStore(dataDir);
    async function* huge(): AsyncGenerator<Buffer> {
      const mib = Buffer.alloc(1024 * 1024, 0x61);
      for (let i = 0; i < 65; i++) yield mib;
    }
    await expect(store.add('t_aaaaaaaaaaaaaaaaaaaaaaaaaa', 'big.txt', huge())).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    expect((fs.readdirSync(path.join(dataDir, 'uploads'), { recursive: true }) as string[]).filter((f) => f.endsWith('.sealed'))).toEqual([]);
    expect(store.pending).toBe(0);
  });
});
