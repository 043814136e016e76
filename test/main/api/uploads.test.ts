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

  it('a new session removes what a crashed one left in the uploads folder', async () => {
    const dataDir = tempDir();
    const store = new UploadStore(dataDir);
    await store.add('t_aaaaaaaaaaaaaaaaaaaaaaaaaa', 'left.txt', Buffer.from('tenant text left behind'));
    expect(fs.readdirSync(store.root)).toHaveLength(1);
    const s = new ConsoleSession({ dataDir });
    expect(fs.existsSync(path.join(dataDir, 'uploads'))).toBe(false);
    s.dispose();
  });

  it('refuses a file over the size limit and leaves nothing of it', async () => {
    const store = new UploadStore(tempDir());
    async function* huge(): AsyncGenerator<Buffer> {
      const mib = Buffer.alloc(1024 * 1024, 0x61);
      for (let i = 0; i < 65; i++) yield mib;
    }
    await expect(store.add('t_aaaaaaaaaaaaaaaaaaaaaaaaaa', 'big.txt', huge())).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    expect(fs.readdirSync(store.root)).toEqual([]);
    expect(store.pending).toBe(0);
  });
});
