// `npm start` where no Electron binary can be had: the same console, served by the web host,
// opened in the system's default browser where one can be opened, its address printed either way.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/** The command that opens a URL in the default browser on this platform. */
export function openerFor(platform: NodeJS.Platform): { command: string; args: (url: string) => string[] } {
  if (platform === 'darwin') return { command: 'open', args: (url) => [url] };
  // `start` is a cmd built-in; the empty title keeps a quoted URL from being read as the title.
  if (platform === 'win32') return { command: 'cmd', args: (url) => ['/c', 'start', '""', url.replace(/&/g, '^&')] };
  return { command: 'xdg-open', args: (url) => [url] };
}

/** Tries to open the URL; any failure (no opener, no display) is fine: the URL was printed. */
export function openInBrowser(url: string, platform: NodeJS.Platform = process.platform): void {
  const { command, args } = openerFor(platform);
  try {
    const child = spawn(command, args(url), { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // Nothing to do: the address is on the terminal.
  }
}

/**
 * Runs the web host as a child (passing the data folder and other options through), opens the
 * browser at the URL it prints, and ends with exit code 0 when the user presses Ctrl-C.
 */
export function startBrowserConsole(distRoot: string, argv: readonly string[]): ChildProcess {
  const child = spawn(process.execPath, [path.join(distRoot, 'src-main', 'web', 'main.js'), ...argv], { stdio: ['inherit', 'pipe', 'inherit'] });
  let buffered = '';
  let opened = false;
  child.stdout!.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk);
    if (opened) return;
    buffered += chunk.toString('utf8');
    const url = /https?:\/\/127\.0\.0\.1:\d+\/\S*/.exec(buffered)?.[0];
    if (url) {
      opened = true;
      buffered = '';
      openInBrowser(url);
    }
  });
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    stopping = true;
    // The host locks the vault and exits 0 on SIGINT/SIGTERM; a second Ctrl-C in a terminal reaches it too.
    if (child.exitCode === null) child.kill(signal);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  child.on('exit', (code, signal) => process.exit(stopping && (code === 0 || signal !== null) ? 0 : (code ?? 1)));
  return child;
}
