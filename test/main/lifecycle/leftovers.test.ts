import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeLeftovers } from '../../../src-main/vault/snapshot.js';
import { tempDir } from '../../helpers/vault.js';

describe('leftovers of a killed operation', () => {
  it('are removed when their process is gone, and kept while it runs', () => {
    const dir = tempDir();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    const live = String(process.ppid);
    const names = [
      `.acme.bundle.db-${dead}-0a1b2c3d`,
      `.acme.bundle.db-${live}-0a1b2c3d`,
      `acme.bundle.${dead}.tmp`,
      `.acme.bundle.other-${dead}-0a1b2c3d`,
      'acme.bundle',
    ];
    for (const n of names) fs.writeFileSync(path.join(dir, n), 'x');
    removeLeftovers(path.join(dir, 'acme.bundle'), 'db');
    expect(fs.readdirSync(dir).sort()).toEqual([`.acme.bundle.db-${live}-0a1b2c3d`, `.acme.bundle.other-${dead}-0a1b2c3d`, 'acme.bundle'].sort());
  });
});
