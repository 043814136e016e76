// The layers of ARCHITECTURE.md, enforced on every `npm test` (npm run lint:layers).
// A folder may import its own files and the folders of the layers below it, never a peer or a layer above.
// Each rule is named after the folder it constrains, so a failing import names the rule it broke.

/** Lowest first. Folders on one line are peers: neither imports the other. */
const LAYERS = [
  ['src-shared'],
  ['src-main/log', 'src-main/threads'],
  ['src-main/vault'],
  ['src-main/egress', 'src-main/text'],
  ['src-main/models'],
  ['src-main/index', 'src-main/embed'],
  ['src-main/ingest', 'src-main/retrieval', 'src-main/connectors'],
  ['src-main/agent'],
  ['src-main/verify'],
  ['src-main/api'],
  ['src-main/cli', 'src-main/web', 'src-main/electron'],
];

const ALL = LAYERS.flat();
const alt = (folders) => `^(${folders.map((f) => f.replace('/', '\\/')).join('|')})/`;

const layerRules = LAYERS.flatMap((layer, i) => {
  const below = LAYERS.slice(0, i).flat();
  return layer.map((folder) => {
    const forbidden = ALL.filter((f) => f !== folder && !below.includes(f));
    return {
      name: `layer:${folder.replace('src-main/', '')}`,
      comment: `${folder} may import only ${below.length ? below.join(', ') : 'npm packages'} (ARCHITECTURE.md)`,
      severity: 'error',
      from: { path: alt([folder]) },
      to: { path: alt([...forbidden, 'src-renderer']) },
    };
  });
});

/** Outbound requests leave through src-main/egress only; the web host's listening server is not egress. */
const EGRESS_MODULES = '^node_modules/(undici|node-fetch|openai|ollama|axios|got|ky|@modelcontextprotocol/sdk/dist/[^/]+/client/(streamableHttp|sse))[/.]';

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'layer:renderer',
      comment: 'src-renderer runs in the browser sandbox and imports only src-shared',
      severity: 'error',
      from: { path: '^src-renderer/' },
      to: { path: '^(src-main|bench|test)/' },
    },
    {
      name: 'no-folder-outside-a-layer',
      comment: 'every folder of src-main has a place in LAYERS (and in ARCHITECTURE.md)',
      severity: 'error',
      from: { path: '^src-main/', pathNot: alt(ALL) },
      to: {},
    },
    {
      name: 'product-never-imports-tests-or-benchmarks',
      severity: 'error',
      from: { path: '^src-' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'one-way-out:clients',
      comment: 'HTTP and model clients are built in src-main/egress only (SECURITY.md, one way out)',
      severity: 'error',
      from: { path: '^src-', pathNot: '^src-main/egress/' },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'], dependencyTypesNot: ['type-only'], path: EGRESS_MODULES },
    },
    {
      name: 'one-way-out:node-sockets',
      comment: 'node:http(s)/net/tls/http2/dgram outside egress only for the web host that listens on loopback',
      severity: 'error',
      from: { path: '^src-', pathNot: '^src-main/(egress|web)/' },
      to: { dependencyTypes: ['core'], path: '^(node:)?(http|https|net|tls|http2|dgram)$' },
    },
    {
      name: 'no-circular',
      comment: 'no import cycle between modules (type-only imports, erased at build, do not count)',
      severity: 'error',
      from: {},
      to: { circular: true, dependencyTypesNot: ['type-only'], viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
