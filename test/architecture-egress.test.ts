// The layer rule of "one way out": every outbound request that could carry a tenant's data is made
// in src-main/egress/ (tenantEgress(handle, purpose) applies the tenant's policy there), so no
// other file of src-main may hold a way to the network. Checked with the TypeScript compiler
// (syntax and symbols, not text search): a reference to the global fetch is caught however it is
// spelt (fetch(...), globalThis.fetch, const f = fetch, { fetch }), while `egress.fetch` or
// `opts.fetch` (a property of our own types) is not a way out and passes. Type-only imports emit no
// code and pass too.
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/** Modules that open sockets or make requests. Value imports are allowed in src-main/egress/ only. */
const NETWORK_MODULES = new Set([
  'http',
  'https',
  'http2',
  'net',
  'tls',
  'dgram',
  'dns',
  'dns/promises',
  'undici',
  'node-fetch',
  'axios',
  'got',
  'ky',
  'ws',
  // The model client: constructing one is making a way out (egress/model-client.ts makes it, with the tenant's fetch).
  'openai',
  // MCP transports that speak HTTP (HTTP connectors get their fetch from tenantEgress(handle, 'connector')).
  '@modelcontextprotocol/sdk/client/sse.js',
  '@modelcontextprotocol/sdk/client/streamableHttp.js',
  '@modelcontextprotocol/sdk/client/websocket.js',
]);
const bare = (spec: string): string => spec.replace(/^node:/, '');

/** Named imports that reach the network from modules that otherwise do not. */
const NETWORK_NAMED: Record<string, readonly string[]> = {
  // Electron's own HTTP client (net.request, net.fetch) from the main process.
  electron: ['net'],
  // node-llama-cpp's model downloads (the runtime itself is local): through egress/ only.
  'node-llama-cpp': ['createModelDownloader', 'combineModelDownloaders', 'resolveModelFile'],
};

/** Globals that make requests. A reference that resolves to the platform's declaration is a way out. */
const NETWORK_GLOBALS = new Set(['fetch', 'XMLHttpRequest', 'WebSocket', 'EventSource']);

/**
 * Not a way out, and why. The web host serves the console on loopback: a server answers the
 * renderer's requests and sends nothing of its own accord, so web/server.ts may use node:http, but
 * only to make a server and name its request and response types (http.request, http.get or an Agent
 * there would be a way out and is refused).
 */
const SERVER_ONLY: Record<string, { module: string; members: readonly string[] }> = {
  [path.join('src-main', 'web', 'server.ts')]: { module: 'http', members: ['createServer', 'Server', 'IncomingMessage', 'ServerResponse'] },
};

/**
 * Dynamic imports whose module is computed: allowed only where the module is one of our own files
 * (the worker runners load a path the calling code chose), never a package named at run time.
 */
const COMPUTED_IMPORT_ALLOWED = new Set([path.join('src-main', 'vault', 'background-reader-worker.ts'), path.join('src-main', 'threads', 'module-worker.ts')]);

/**
 * `require('electron')` in plain Node (the launcher) returns the path of the Electron binary, not
 * its API: nothing there can reach the network.
 */
const BINARY_PATH_ONLY: Record<string, string> = { [path.join('src-main', 'electron', 'launch.ts')]: 'electron' };

const EGRESS_DIR = `${path.join('src-main', 'egress')}${path.sep}`;

function isTypePosition(node: ts.Node): boolean {
  for (let n: ts.Node | undefined = node.parent; n; n = n.parent) {
    if (ts.isTypeNode(n) || ts.isTypeAliasDeclaration(n) || ts.isInterfaceDeclaration(n) || ts.isHeritageClause(n)) return true;
    if (ts.isStatement(n) || ts.isExpression(n)) {
      if (ts.isExpressionWithTypeArguments(n)) continue;
      return false;
    }
  }
  return false;
}

/** True when the symbol is declared by the platform (TypeScript's lib files or @types/node, undici-types), not by our code. */
function isPlatformSymbol(program: ts.Program, symbol: ts.Symbol | undefined): boolean {
  const decls = symbol?.declarations ?? [];
  return (
    decls.length > 0 &&
    decls.every((d) => {
      const file = d.getSourceFile();
      return program.isSourceFileDefaultLibrary(file) || /node_modules[\\/](@types[\\/]node|undici-types|typescript[\\/]lib)[\\/]/.test(file.fileName);
    })
  );
}

/** Every way out in the given files that is not in src-main/egress/, as "file:line what". */
export function findWaysOut(program: ts.Program, files: readonly string[], root: string): string[] {
  const checker = program.getTypeChecker();
  const offences: string[] = [];
  for (const abs of files) {
    const rel = path.relative(root, abs);
    if (rel.startsWith(EGRESS_DIR)) continue;
    const sf = program.getSourceFile(abs);
    if (!sf) throw new Error(`not in the program: ${rel}`);
    const at = (n: ts.Node): string => `${rel}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}`;
    const serverOnly = SERVER_ONLY[rel];
    const serverNames = new Set<string>();

    const checkModule = (
      node: ts.Node,
      spec: string,
      typeOnly: boolean,
      named: readonly ts.ImportSpecifier[] | null,
      defaultOrNs: ts.Identifier | null,
    ): void => {
      const m = bare(spec);
      if (typeOnly) return;
      if (NETWORK_MODULES.has(m) || NETWORK_MODULES.has(spec)) {
        const valueNamed = (named ?? []).filter((s) => !s.isTypeOnly);
        if (serverOnly && serverOnly.module === m) {
          for (const s of valueNamed)
            if (!serverOnly.members.includes((s.propertyName ?? s.name).text))
              offences.push(`${at(s)} imports ${(s.propertyName ?? s.name).text} from ${spec}`);
          if (defaultOrNs) serverNames.add(defaultOrNs.text);
          return;
        }
        if (named !== null && valueNamed.length === 0 && !defaultOrNs) return; // only types
        offences.push(`${at(node)} imports ${spec}`);
        return;
      }
      const forbidden = NETWORK_NAMED[spec];
      if (forbidden) {
        for (const s of named ?? [])
          if (!s.isTypeOnly && forbidden.includes((s.propertyName ?? s.name).text))
            offences.push(`${at(s)} imports ${(s.propertyName ?? s.name).text} from ${spec}`);
        if (defaultOrNs) offences.push(`${at(node)} imports all of ${spec} (name what it uses, so the network parts can be refused)`);
      }
    };

    const visit = (node: ts.Node): void => {
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
        const clause = node.importClause;
        const bindings = clause?.namedBindings;
        const named = bindings && ts.isNamedImports(bindings) ? [...bindings.elements] : null;
        const ns = bindings && ts.isNamespaceImport(bindings) ? bindings.name : null;
        // A side-effect import (no clause) runs the module: treated as a value import.
        checkModule(
          node,
          node.moduleSpecifier.text,
          clause?.isTypeOnly ?? false,
          clause ? named : null,
          clause?.name ?? ns ?? (clause ? null : ts.factory.createIdentifier('*')),
        );
      } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
        if (!node.isTypeOnly) checkModule(node, node.moduleSpecifier.text, false, null, ts.factory.createIdentifier('*'));
      } else if (
        ts.isImportEqualsDeclaration(node) &&
        ts.isExternalModuleReference(node.moduleReference) &&
        ts.isStringLiteral(node.moduleReference.expression)
      ) {
        checkModule(node, node.moduleReference.expression.text, node.isTypeOnly, null, node.name);
      } else if (
        ts.isCallExpression(node) &&
        (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require'))
      ) {
        const arg = node.arguments[0];
        if (arg && ts.isStringLiteralLike(arg) && BINARY_PATH_ONLY[rel] === arg.text && node.expression.kind !== ts.SyntaxKind.ImportKeyword) {
          // the launcher's path to the binary: see BINARY_PATH_ONLY
        } else if (arg && ts.isStringLiteralLike(arg)) checkModule(node, arg.text, false, null, ts.factory.createIdentifier('*'));
        else if (!COMPUTED_IMPORT_ALLOWED.has(rel)) offences.push(`${at(node)} imports a module computed at run time`);
      } else if (ts.isIdentifier(node) && NETWORK_GLOBALS.has(node.text) && !isTypePosition(node)) {
        const parent = node.parent;
        const declaresName =
          (ts.isPropertyAssignment(parent) ||
            ts.isPropertyDeclaration(parent) ||
            ts.isPropertySignature(parent) ||
            ts.isMethodDeclaration(parent) ||
            ts.isParameter(parent) ||
            ts.isVariableDeclaration(parent) ||
            ts.isBindingElement(parent)) &&
          parent.name === node;
        if (!declaresName) {
          const symbol = ts.isShorthandPropertyAssignment(parent) ? checker.getShorthandAssignmentValueSymbol(parent) : checker.getSymbolAtLocation(node);
          if (isPlatformSymbol(program, symbol)) offences.push(`${at(node)} uses the global ${node.text}`);
        }
      } else if (serverNames.size > 0 && (ts.isPropertyAccessExpression(node) || ts.isQualifiedName(node))) {
        const left = ts.isPropertyAccessExpression(node) ? node.expression : node.left;
        const right = ts.isPropertyAccessExpression(node) ? node.name : node.right;
        if (ts.isIdentifier(left) && serverNames.has(left.text) && !serverOnly!.members.includes(right.text))
          offences.push(`${at(node)} uses ${left.text}.${right.text} (a server may listen, not send)`);
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return offences;
}

function programFor(rootNames: string[], host?: ts.CompilerHost): ts.Program {
  const configPath = path.resolve('tsconfig.json');
  const config = ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
  if (!config) throw new Error('cannot read tsconfig.json');
  return ts.createProgram({ rootNames, options: { ...config.options, noEmit: true }, ...(host ? { host } : {}) });
}

const ROOT = path.resolve('.');

describe('architecture: one way out', () => {
  it('no file of src-main outside src-main/egress/ imports a network module, uses fetch or builds a model client', () => {
    const files = ts.sys
      .readDirectory(path.resolve('src-main'), ['.ts', '.tsx'])
      .map((f) => path.resolve(f))
      .filter((f) => !f.endsWith('.d.ts'));
    expect(files.length).toBeGreaterThan(50);
    expect(files.some((f) => f.includes(`${path.sep}egress${path.sep}`))).toBe(true);
    const offences = findWaysOut(programFor(files), files, ROOT);
    expect(offences).toEqual([]);
  }, 120_000);

  it('catches every spelling of a way out, and lets our own fetch properties, types and the web server pass', () => {
    // Virtual files placed in src-main (never written to disk) so the rule applies to them.
    const stray = path.resolve('src-main', 'agent', '__stray__.ts');
    const server = path.resolve('src-main', 'web', 'server.ts');
    const fine = path.resolve('src-main', 'embed', '__fine__.ts');
    const sources: Record<string, string> = {
      [stray]: [
        "import https from 'node:https';",
        "import OpenAI from 'openai';",
        "import { net } from 'electron';",
        "import { request } from 'undici';",
        'export async function leak(x: string) {',
        "  await fetch('http://example.com', { method: 'POST', body: x });",
        '  const f = globalThis.fetch;',
        '  const o = { fetch };',
        '  new OpenAI({ apiKey: x });',
        "  await import('node:net');",
        "  const name = 'http'; await import(name);",
        '  return [https, f, o, net, request];',
        '}',
      ].join('\n'),
      [server]: [
        "import http from 'node:http';",
        'export function start(): http.Server {',
        "  http.get('http://example.com');",
        '  return http.createServer((req: http.IncomingMessage, res: http.ServerResponse) => res.end());',
        '}',
      ].join('\n'),
      [fine]: [
        "import type OpenAI from 'openai';",
        "import type { AddressInfo } from 'node:net';",
        'export interface Out { fetch: typeof fetch }',
        'export async function ok(o: Out, c: OpenAI | null, a: AddressInfo | null) {',
        "  await o.fetch('http://127.0.0.1/');",
        '  return { c, a, fetch: o.fetch };',
        '}',
      ].join('\n'),
    };
    const base = ts.createCompilerHost({});
    const host: ts.CompilerHost = {
      ...base,
      fileExists: (f) => f in sources || base.fileExists(f),
      readFile: (f) => sources[f] ?? base.readFile(f),
      getSourceFile: (f, lang, onError, create) =>
        f in sources ? ts.createSourceFile(f, sources[f]!, lang, true) : base.getSourceFile(f, lang, onError, create),
    };
    const files = Object.keys(sources);
    const offences = findWaysOut(programFor(files, host), files, ROOT);
    const strayRel = path.relative(ROOT, stray);
    expect(offences).toEqual([
      `${strayRel}:1 imports node:https`,
      `${strayRel}:2 imports openai`,
      `${strayRel}:3 imports net from electron`,
      `${strayRel}:4 imports undici`,
      `${strayRel}:6 uses the global fetch`,
      `${strayRel}:7 uses the global fetch`,
      `${strayRel}:8 uses the global fetch`,
      `${strayRel}:10 imports node:net`,
      `${strayRel}:11 imports a module computed at run time`,
      `${path.relative(ROOT, server)}:3 uses http.get (a server may listen, not send)`,
    ]);
  }, 120_000);
});
