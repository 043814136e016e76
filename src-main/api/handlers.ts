import type { z } from 'zod';
import { setDocumentShared } from '../vault/shared-material.js';
import type { Calls, CallName, EmbedderView, OpenTenant, Settings, Streams, StreamName, TenantItem, VaultStatus } from '../../src-shared/contract.js';
import { BulkheadError } from '../../src-shared/errors.js';
import { nameKey, type TenantSummary } from '../../src-shared/tenant.js';
import { listAudit, verifyAudit } from '../vault/audit-chain.js';
import { countDocuments, deleteDocument, listDocuments } from '../ingest/documents.js';
import { assertEmbedderAllowed, builtinEmbedderSettings, createEmbedder, probeDimension } from '../embed/index.js';
import { readReranker } from '../retrieval/reranker-setting.js';
import { modelHandlers, saveBuiltinModel, saveReranker } from './models.js';
import { alreadyTheEmbedder, readEmbedderConfig, type EmbedderConfig } from '../embed/settings.js';
import { reembedTenant } from '../retrieval/reembed.js';
import { guardTenantErrors, type TenantHandle } from '../vault/handle.js';
import { modelSettings, runChat, saveModelSettings, testModel } from './chat.js';
import { confirmStoredEndpoints, reviewStoredEndpoints } from '../agent/endpoints.js';
import { migrateTenantModel, prefillNewTenant } from '../agent/tenant-model.js';
import { readPassage } from './passages.js';
import { createSampleTenants } from './samples.js';
import { tenantColour, type ConsoleSession } from './session.js';
import { runIngest } from './ingest.js';
import { runVerify } from './verify.js';
import { connectorHandlers } from './connectors.js';
import { searchForView } from './search-view.js';
import { confirmRemoved, foldersChanged, watchJob, watchStatus } from './watch-job.js';
import { addWatchedFolder, removeWatchedFolder } from '../ingest/watch.js';
import { documentFacets, documentSegments, filterDocuments, retagDocument } from '../ingest/document-filters.js';

type CallHandler<K extends CallName> = (
  s: ConsoleSession,
  input: z.output<Calls[K]['input']>,
) => Promise<z.input<Calls[K]['output']>> | z.input<Calls[K]['output']>;
export type CallHandlers = { [K in CallName]: CallHandler<K> };

export type StreamHandler<K extends StreamName> = (
  s: ConsoleSession,
  input: z.output<Streams[K]['input']>,
  emit: (event: z.input<Streams[K]['event']>) => void,
  signal: AbortSignal,
) => Promise<z.input<Streams[K]['output']>>;
export type StreamHandlers = { [K in StreamName]: StreamHandler<K> };

export function tenantItem(t: Pick<TenantSummary, 'id' | 'name' | 'createdAt'>): TenantItem {
  return { id: t.id, name: t.name, colour: tenantColour(t.id), createdAt: t.createdAt };
}

function openTenantView(s: ConsoleSession, h: TenantHandle): OpenTenant {
  const counts = guardTenantErrors(h, () => countDocuments(h));
  return { ...tenantItem(s.vault.getTenant(h.id)), ...counts };
}

function status(s: ConsoleSession): VaultStatus {
  const state = s.state;
  const h = state === 'unlocked' ? s.current : null;
  return {
    state,
    tenant: h ? openTenantView(s, h) : null,
    presentation: s.presentationTenant !== null,
    keychain: s.keychain.status(),
    idleLockSeconds: s.idleLockSeconds,
  };
}

function embedderView(c: EmbedderConfig): EmbedderView {
  if (c.kind === 'hash') return { kind: 'hash' };
  // The same offline embedder, tuned to this client's own passages (embed/term-space.ts).
  if (c.kind === 'terms') return { kind: 'hash', tunedOnChunks: c.chunks };
  if (c.kind === 'builtin') return { kind: 'builtin', model: c.model, dimension: c.dimension };
  if (c.kind === 'ollama') return { kind: 'ollama', baseUrl: c.baseUrl, model: c.model, ...(c.dimension ? { dimension: c.dimension } : {}) };
  return { kind: 'openai', baseUrl: c.baseUrl, model: c.model, ...(c.dimension ? { dimension: c.dimension } : {}), hasApiKey: Boolean(c.apiKey) };
}

export async function settings(s: ConsoleSession, h: TenantHandle): Promise<Settings> {
  const held = await reviewStoredEndpoints(h);
  return { embedder: embedderView(readEmbedderConfig(h)), model: modelSettings(s, h), held, reranker: readReranker(h) };
}

export const callHandlers: CallHandlers = {
  'vault.status': (s) => status(s),
  'vault.initialize': async (s, { passphrase, samples }) => {
    await s.initialize(passphrase);
    if (samples) await createSampleTenants(s);
    return status(s);
  },
  'vault.unlock': async (s, { passphrase }) => {
    await s.unlock(passphrase);
    return status(s);
  },
  'vault.lock': (s) => {
    s.lock();
    return status(s);
  },
  'vault.unlockWithKeychain': (s) => {
    s.requireNotPresenting();
    s.unlockWithKeychain();
    return status(s);
  },
  'keychain.enable': async (s, { passphrase }) => {
    s.requireNotPresenting();
    await s.checkPassphrase(passphrase);
    s.keychain.enable(s.authority().use('keychain.enable'));
    return status(s);
  },
  'keychain.disable': (s) => {
    if (s.vault.state !== 'unlocked') throw new BulkheadError('LOCKED', 'the vault is locked');
    s.authority().use('keychain.disable');
    s.keychain.disable();
    return status(s);
  },
  'tenants.list': (s) => {
    const all = s.vault.listTenants();
    // Presentation mode: the other clients do not exist as far as the UI can tell.
    const shown = s.presentationTenant ? all.filter((t) => t.id === s.presentationTenant) : all;
    return shown.map(tenantItem);
  },
  'tenants.create': (s, { name }) => {
    const created = s.authority().createTenant(name);
    const session = s.vault.openSession();
    try {
      prefillNewTenant(s.vault, session.open(created.id)); // the vault-wide defaults, never a key
    } finally {
      session.dispose();
    }
    return tenantItem(created);
  },
  'tenants.rename': (s, { tenantId, name }) => {
    return tenantItem(s.authority().renameTenant(tenantId, name));
  },
  'tenants.delete': (s, { tenantId, confirmName }) => {
    const authority = s.authority();
    const t = s.vault.getTenant(tenantId);
    if (nameKey(confirmName.normalize('NFC').trim()) !== nameKey(t.name))
      throw new BulkheadError('INPUT_INVALID', 'type the client’s name exactly to delete it');
    s.closeIf(tenantId);
    const r = authority.deleteTenant(tenantId);
    return { tenantId: r.tenantId, deletedAt: r.deletedAt, keyDestroyed: r.keyDestroyed };
  },
  'tenants.open': async (s, { tenantId }) => {
    const h = s.open(tenantId);
    migrateTenantModel(s.vault, h); // the one-time copy of the former vault-wide model settings
    await reviewStoredEndpoints(h); // endpoints that break its policy are held until confirmed
    return openTenantView(s, h);
  },
  'tenants.createSamples': async (s) => {
    s.authority().use('tenants.createSamples');
    return (await createSampleTenants(s)).map(tenantItem);
  },
  'documents.list': (s, { offset, limit, filter, tags, formats }) => {
    const { handle } = s.scope();
    return guardTenantErrors(handle, () => {
      if (tags.length || formats.length) return { offset, ...filterDocuments(handle, { text: filter, tags, formats }, offset, limit) };
      const items = listDocuments(handle, { offset, limit, ...(filter ? { filter } : {}) });
      const total = filter ? countFiltered(handle, filter) : countDocuments(handle).documents;
      return { total, offset, items };
    });
  },
  'documents.delete': (s, { documentId }) => {
    const { handle } = s.scope();
    guardTenantErrors(handle, () => deleteDocument(handle, documentId));
    return { documentId };
  },
  'documents.setShared': (s, { documentId, shared }) => {
    s.requireNotPresenting();
    const { handle } = s.scope();
    return guardTenantErrors(handle, () => setDocumentShared(handle, documentId, shared));
  },
  'documents.passage': (s, { chunkId }) => {
    const { handle } = s.scope();
    return guardTenantErrors(handle, () => readPassage(handle, chunkId));
  },
  'knowledge.search': async (s, { query, k, filters, excludeDocumentIds }) => {
    const { handle, signal } = s.scope();
    return searchForView(handle, query, { k, filters, signal, excludeDocumentIds });
  },
  'documents.open': (s, { documentId }) => {
    const { handle } = s.scope();
    return guardTenantErrors(handle, () => documentSegments(handle, documentId));
  },
  'documents.setTags': (s, { documentId, tags }) => {
    const { handle } = s.scope();
    return guardTenantErrors(handle, () => retagDocument(handle, documentId, tags));
  },
  'watch.status': (s) => {
    const { handle, signal } = s.scope();
    return guardTenantErrors(handle, () => watchStatus(handle, signal));
  },
  'watch.add': (s, { path }) => {
    const { handle, signal } = s.scope();
    return guardTenantErrors(handle, () => {
      addWatchedFolder(handle, path);
      foldersChanged(handle, signal);
      return watchStatus(handle, signal);
    });
  },
  'watch.remove': (s, { path }) => {
    const { handle, signal } = s.scope();
    return guardTenantErrors(handle, () => {
      removeWatchedFolder(handle, path);
      foldersChanged(handle, signal);
      return watchStatus(handle, signal);
    });
  },
  'watch.sync': (s) => {
    const { handle, signal } = s.scope();
    return guardTenantErrors(handle, () => {
      watchJob(handle, signal)?.trigger();
      return watchStatus(handle, signal);
    });
  },
  'watch.confirmRemoved': (s, { documentIds }) => {
    const { handle, signal } = s.scope();
    return guardTenantErrors(handle, () => {
      confirmRemoved(handle, documentIds);
      return watchStatus(handle, signal);
    });
  },
  'documents.facets': (s) => {
    const { handle } = s.scope();
    return guardTenantErrors(handle, () => documentFacets(handle));
  },
  'chat.confirm': (s, { confirmId, allow }) => ({ found: s.answerConfirmation(confirmId, allow) }),
  'uploads.discard': (s, { uploadIds }) => ({ discarded: s.uploads.discard(uploadIds) }),
  'settings.get': (s) => settings(s, s.scope().handle),
  'settings.setEmbedder': async (s, { embedder }) => {
    const { handle, signal } = s.scope();
    s.authority().use('settings.setEmbedder', handle.id);
    await assertEmbedderAllowed(handle, embedder);
    // The offline embedder already tuned to this tenant is the one asked for: nothing to redo.
    if (alreadyTheEmbedder(embedder, readEmbedderConfig(handle))) return settings(s, handle);
    const config: EmbedderConfig =
      embedder.kind === 'hash'
        ? embedder
        : embedder.kind === 'builtin'
          ? await builtinEmbedderSettings(embedder.model)
          : { ...embedder, dimension: await probeDimension(handle, embedder, signal) };
    await reembedTenant(handle, config, createEmbedder(handle, config), { signal });
    return settings(s, handle);
  },
  'settings.setModel': async (s, { model }) => {
    const { handle } = s.scope();
    s.authority().use('settings.setModel', handle.id);
    await saveModelSettings(s, handle, model);
    return settings(s, handle);
  },
  'settings.setBuiltinModel': async (s, { model }) => {
    const { handle } = s.scope();
    s.authority().use('settings.setBuiltinModel', handle.id);
    await saveBuiltinModel(s, handle, model);
    return settings(s, handle);
  },
  'settings.setReranker': async (s, { model }) => {
    const { handle } = s.scope();
    s.authority().use('settings.setReranker', handle.id);
    await saveReranker(handle, model);
    return settings(s, handle);
  },
  'settings.confirmEndpoints': async (s, { slot }) => {
    const { handle } = s.scope();
    await confirmStoredEndpoints(handle, slot);
    return settings(s, handle);
  },
  'settings.testModel': (s) => {
    const { handle, signal } = s.scope();
    return testModel(s, handle, signal);
  },
  'presentation.enter': (s, { tenantId }) => {
    s.requireNotPresenting();
    s.enterPresentation(tenantId);
    return status(s);
  },
  'presentation.exit': async (s, { passphrase }) => {
    await s.exitPresentation(passphrase);
    return status(s);
  },
  'audit.list': (s, { afterSeq, limit }) => {
    const { handle } = s.scope();
    return guardTenantErrors(handle, () => listAudit(handle, { afterSeq, limit }));
  },
  'audit.verify': (s) => {
    const { handle } = s.scope();
    return guardTenantErrors(handle, () => verifyAudit(handle));
  },
  ...connectorHandlers,
  ...modelHandlers,
};

export const streamHandlers: StreamHandlers = {
  'ingest.run': (s, input, emit, signal) => runIngest(s, input, emit, signal),
  'chat.ask': (s, input, emit, signal) => runChat(s, input, emit, signal),
  'verify.run': (s, _input, emit) => runVerify(s, emit),
};

function countFiltered(h: TenantHandle, filter: string): number {
  return h.db
    .prepare('SELECT count(*) FROM documents WHERE instr(lower(title), lower(?)) > 0 OR instr(lower(source_path), lower(?)) > 0')
    .pluck()
    .get(filter, filter) as number;
}
