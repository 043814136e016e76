// The desktop shell: one sandboxed window on the app:// origin, talking only through the bridge.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, protocol, safeStorage, session as electronSession, shell } from 'electron';
import type { KeychainBackend } from '../api/keychain.js';
import { ConsoleHost } from '../api/host.js';
import { openAppLog } from '../log/logger.js';
import { resolveDataDir } from '../vault/paths.js';
import { CONTENT_SECURITY_POLICY, SECURITY_HEADERS } from '../api/shell-policy.js';
import { registerIpc } from './ipc.js';
import { APP_ORIGIN, windowOptions } from './window.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const distRoot = path.resolve(here, '..', '..');
const rendererDir = path.join(distRoot, 'renderer');
const preload = path.join(distRoot, 'electron', 'preload.cjs');

protocol.registerSchemesAsPrivileged([{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: false, corsEnabled: false } }]);
app.enableSandbox();

const MIME: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png' };

/** app://bulkhead/<file of the built renderer>, nothing else, with the same CSP as the web host. */
function serveRenderer(): void {
  protocol.handle('app', (req) => {
    const url = new URL(req.url);
    const rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname).replace(/^\/+/, '');
    const file = path.resolve(rendererDir, rel);
    if (url.host !== 'bulkhead' || !file.startsWith(rendererDir + path.sep) || !fs.existsSync(file)) return new Response('not found', { status: 404 });
    return new Response(fs.readFileSync(file), {
      headers: {
        ...SECURITY_HEADERS,
        'content-security-policy': CONTENT_SECURITY_POLICY.replace("connect-src 'self'", "connect-src 'none'"),
        'content-type': MIME[path.extname(file)] ?? 'application/octet-stream',
      },
    });
  });
}

/** Navigation, new windows, webviews and permission requests are all refused. */
function lockDown(): void {
  const ses = electronSession.defaultSession;
  ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  app.on('web-contents-created', (_e, contents) => {
    contents.on('will-navigate', (e, url) => {
      if (new URL(url).origin !== APP_ORIGIN) e.preventDefault();
    });
    contents.on('will-redirect', (e) => e.preventDefault());
    contents.on('will-attach-webview', (e) => e.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      // Links to the web open in the user's browser, never in a window of the app.
      if (/^https:\/\//.test(url)) void shell.openExternal(url);
      return { action: 'deny' };
    });
  });
}

/** safeStorage as the console's keychain; the policy (basic_text refused, no silent re-keying) is in api/keychain. */
const keychain: KeychainBackend = {
  backend: () => (process.platform === 'linux' ? safeStorage.getSelectedStorageBackend() : process.platform),
  isAvailable: () => safeStorage.isEncryptionAvailable(),
  encrypt: (text) => safeStorage.encryptString(text),
  decrypt: (blob) => safeStorage.decryptString(blob),
};

async function start(): Promise<void> {
  await app.whenReady();
  const dataDir = resolveDataDir(process.env.BULKHEAD_DATA_DIR);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const log = await openAppLog(dataDir);
  const consoleHost = new ConsoleHost({ dataDir, keychain, log });
  serveRenderer();
  lockDown();
  registerIpc(consoleHost);
  const win = new BrowserWindow(windowOptions(preload));
  win.once('ready-to-show', () => win.show());
  await win.loadURL(`${APP_ORIGIN}/index.html`);
  app.on('window-all-closed', () => {
    consoleHost.dispose();
    app.quit();
  });
  app.on('before-quit', () => consoleHost.dispose());
}

void start();
