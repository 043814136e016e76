import type { CallName, StreamName } from '../../src-shared/contract.js';

/**
 * What each call may reach, decided here once for every call of the contract (a new call does not
 * compile until it is placed):
 * - `public`: before unlock (status, unlock, lock);
 * - `unlocked`: needs this window unlocked, reads the vault as presentation mode shows it;
 * - `tenant`: acts on the open tenant only; the caller names the tenant its view shows, and a
 *   call naming another is refused with TENANT_CHANGED;
 * - `tenant-admin`: `tenant`, and changes what outlives the view (settings): needs the authority;
 * - `admin`: reaches beyond the open tenant (tenants, keychain, verify, backup): needs the
 *   authority, which a presentation session never holds.
 */
export type CallScope = 'public' | 'unlocked' | 'tenant' | 'tenant-admin' | 'admin';

export const CALL_SCOPE: { readonly [K in CallName]: CallScope } = {
  'vault.status': 'public',
  'vault.initialize': 'public',
  'vault.unlock': 'public',
  'vault.lock': 'public',
  'vault.unlockWithKeychain': 'public',
  'keychain.enable': 'admin',
  'keychain.disable': 'admin',
  'tenants.list': 'unlocked',
  'tenants.create': 'admin',
  'tenants.rename': 'admin',
  'tenants.delete': 'admin',
  'tenants.open': 'unlocked',
  'tenants.createSamples': 'admin',
  'documents.list': 'tenant',
  'documents.delete': 'tenant',
  'documents.passage': 'tenant',
  'knowledge.search': 'tenant',
  'uploads.discard': 'tenant',
  'chat.confirm': 'tenant',
  'settings.get': 'tenant',
  'settings.setEmbedder': 'tenant-admin',
  'settings.setModel': 'tenant-admin',
  'settings.testModel': 'tenant',
  'presentation.enter': 'unlocked',
  'presentation.exit': 'public',
  'audit.list': 'tenant',
  'audit.verify': 'tenant',
  'settings.confirmEndpoints': 'tenant-admin',
  'documents.open': 'tenant',
  'documents.facets': 'tenant',
  'documents.setTags': 'tenant',
  'watch.status': 'tenant',
  'watch.sync': 'tenant',
  'watch.confirmRemoved': 'tenant',
  'watch.add': 'tenant-admin',
  'watch.remove': 'tenant-admin',
  'connectors.list': 'tenant',
  'connectors.add': 'tenant-admin',
  'connectors.remove': 'tenant-admin',
  'connectors.test': 'tenant-admin',
  'connectors.setTool': 'tenant-admin',
  'connectors.unlock': 'tenant-admin',
  'documents.setShared': 'tenant-admin',
  // The library is not tenant data; the runtime's status names the open tenant's last answer.
  'models.list': 'unlocked',
  'models.status': 'tenant',
  'settings.setBuiltinModel': 'tenant-admin',
  'settings.setReranker': 'tenant-admin',
};

export const STREAM_SCOPE: { readonly [K in StreamName]: CallScope } = {
  'ingest.run': 'tenant',
  'chat.ask': 'tenant',
  'verify.run': 'admin',
};

/** An upload is staged for the open tenant. */
export const UPLOAD_SCOPE: CallScope = 'tenant';

export function namesTenant(scope: CallScope): boolean {
  return scope === 'tenant' || scope === 'tenant-admin';
}
