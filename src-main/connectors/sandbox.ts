import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BulkheadError } from '../../src-shared/errors.js';
import type { Limits } from './config.js';

// How a tenant's stdio connector is started. On Linux: bubblewrap in new user, pid, ipc, uts,
// cgroup and (unless the tenant allows it for this connector) network namespaces, on a root made
// of the command, the libraries it links, the paths the connector lists read-only, and its own
// working folder (the one writable place). The data folder, the home folder and other tenants'
// files are simply not in that root. prlimit caps CPU time, address space and file size first,
// and the limits carry through bwrap into the server. Its environment is only what the connector
// sets (credentials included), passed through the process environment, never on a command line.

export type SandboxKind = 'bwrap' | 'none';

const SYSTEM_PATHS = ['/usr/bin', '/bin', '/usr/local/bin'];

function findExecutable(name: string): string | null {
  for (const dir of SYSTEM_PATHS) {
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return null;
}

let probed: { bwrap: string; prlimit: string } | null | undefined;

/** bwrap and prlimit, if this machine has both and bwrap can make its namespaces here. */
export function sandboxTools(): { bwrap: string; prlimit: string } | null {
  // An explicit "behave as if this machine had no sandbox" (tests; a system where bwrap misbehaves).
  if (process.env.BULKHEAD_NO_SANDBOX === '1') return null;
  if (probed !== undefined) return probed;
  probed = null;
  if (process.platform !== 'linux') return probed;
  const bwrap = findExecutable('bwrap');
  const prlimit = findExecutable('prlimit');
  if (!bwrap || !prlimit) return probed;
  const r = spawnSync(
    bwrap,
    [
      '--unshare-all',
      '--die-with-parent',
      '--ro-bind',
      '/usr',
      '/usr',
      '--symlink',
      'usr/lib',
      '/lib',
      '--symlink',
      'usr/lib64',
      '/lib64',
      '--symlink',
      'usr/bin',
      '/bin',
      '/usr/bin/true',
    ],
    {
      stdio: 'ignore',
      timeout: 5000,
    },
  );
  if (r.status === 0) probed = { bwrap, prlimit };
  return probed;
}

export function sandboxKind(): SandboxKind {
  return sandboxTools() ? 'bwrap' : 'none';
}

/** The shared libraries an executable links (ldd), so that the sandbox root can hold them. */
function linkedLibraries(command: string): string[] {
  try {
    const out = execFileSync('ldd', [command], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
    return [...out.matchAll(/(\/[^\s)]+)/g)].map((m) => m[1]!).filter((p) => fs.existsSync(p));
  } catch {
    return []; // a static binary or a script: the connector lists what it needs
  }
}

/** A path the sandbox must never show: the data folder, the home folder, or one that holds them. */
export function checkReadablePath(p: string, dataDir: string): void {
  const resolved = path.resolve(p);
  const guarded = [path.resolve(dataDir), path.resolve(os.homedir())];
  for (const g of guarded) {
    const inside = resolved === g || resolved.startsWith(g + path.sep);
    const holds = g.startsWith(resolved === path.sep ? resolved : resolved + path.sep);
    if (inside || holds)
      throw new BulkheadError('UNSAFE_PATH', `a connector may not read "${p}": it is, holds or lies inside the data folder or the home folder`);
  }
}

export interface LaunchSpec {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  sandbox: SandboxKind;
}

export interface StdioPlan {
  command: string;
  args: string[];
  env: Record<string, string>;
  readOnlyPaths: string[];
  network: boolean;
  unsandboxed: boolean;
}

const SANDBOX_WORK = '/connector';

function limitArgs(limits: Limits): string[] {
  return [`--cpu=${limits.cpuSeconds}`, `--as=${limits.memoryMiB * 1024 * 1024}`, `--fsize=${256 * 1024 * 1024}`, '--core=0', '--nofile=256'];
}

/** The process to spawn for a stdio connector; SANDBOX_UNAVAILABLE when none exists and the tenant did not choose to run it without. */
export function planLaunch(plan: StdioPlan, limits: Limits, workDir: string, dataDir: string): LaunchSpec {
  for (const p of plan.readOnlyPaths) checkReadablePath(p, dataDir);
  checkReadablePath(plan.command, dataDir);
  const baseEnv = { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', ...plan.env };
  const tools = sandboxTools();
  if (!tools) {
    if (!plan.unsandboxed) {
      throw new BulkheadError(
        'SANDBOX_UNAVAILABLE',
        'no sandbox (bubblewrap) is available on this machine; this connector runs only if the tenant chooses to run it unsandboxed',
      );
    }
    const prlimit = process.platform === 'linux' ? findExecutable('prlimit') : null;
    const env = { ...baseEnv, HOME: workDir, TMPDIR: workDir };
    if (prlimit) return { command: prlimit, args: [...limitArgs(limits), '--', plan.command, ...plan.args], env, cwd: workDir, sandbox: 'none' };
    return { command: plan.command, args: plan.args, env, cwd: workDir, sandbox: 'none' };
  }
  const binds: string[] = [];
  const roBind = (p: string): void => {
    const real = fs.realpathSync(p);
    binds.push('--ro-bind', real, p);
  };
  roBind(plan.command);
  for (const lib of linkedLibraries(plan.command)) roBind(lib);
  for (const p of plan.readOnlyPaths) if (fs.existsSync(p)) roBind(p);
  if (plan.network) for (const p of ['/etc/resolv.conf', '/etc/hosts', '/etc/ssl', '/etc/ca-certificates']) if (fs.existsSync(p)) roBind(p);
  const args = [
    ...limitArgs(limits),
    '--',
    tools.bwrap,
    '--unshare-all',
    ...(plan.network ? ['--share-net'] : []),
    '--die-with-parent',
    '--new-session',
    '--cap-drop',
    'ALL',
    '--hostname',
    'connector',
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--tmpfs',
    '/tmp',
    ...binds,
    '--bind',
    workDir,
    SANDBOX_WORK,
    '--chdir',
    SANDBOX_WORK,
    '--',
    plan.command,
    ...plan.args,
  ];
  return { command: tools.prlimit, args, env: { ...baseEnv, HOME: SANDBOX_WORK, TMPDIR: '/tmp' }, cwd: workDir, sandbox: 'bwrap' };
}
