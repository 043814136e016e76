import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkTenantScope, type Offence } from './tenant-scope.js';

const product = fs
  .readdirSync('src-main', { recursive: true, encoding: 'utf8' })
  .filter((f) => /\.tsx?$/.test(f) && !f.endsWith('.d.ts'))
  .map((f) => path.join('src-main', f));
const fixture = path.join('test', 'architecture', 'fixtures', 'forgotten-scope.ts');

// One program for both (type-checking src-main takes most of the time), split by file afterwards.
const offences = checkTenantScope([...product, fixture]);
const show = (list: Offence[]) => list.map((o) => `${o.file}:${o.line} ${o.fn}: ${o.why}`);

describe('the tenant rule, read from the types', () => {
  it('outside src-main/vault, tenant data is reached only through a TenantHandle in scope (cli/ included)', () => {
    expect(show(offences.filter((o) => o.file.startsWith('src-main')))).toEqual([]);
  });

  it('catches a tenant id string, a renamed parameter, a global handle, a generic, a method and an options object', () => {
    const caught = show(offences.filter((o) => o.file === fixture)).join('\n');
    expect(caught).toMatch(/countNotes: reads a handle's database with a handle that is not its parameter/);
    expect(caught).toMatch(/documentsOfCurrent: passes a handle to countDocuments/);
    expect(caught).toMatch(/firstRow: takes a raw database \(database\)/);
    expect(caught).toMatch(/run: takes a raw database \(opts\)/);
    expect(caught).toMatch(/rows: takes a raw database \(statement\)/);
    // a function that takes the handle is fine
    expect(caught).not.toMatch(/setCurrent/);
  });
});
