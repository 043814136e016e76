import fs from 'node:fs';
import type { ModelConfig } from '../../src-main/agent/model-config.js';
import { HashedEmbedder } from '../../src-main/embed/hashed.js';
import type { TenantHandle } from '../../src-main/vault/handle.js';
import type { TenantSession, Vault } from '../../src-main/vault/vault.js';
import { storeChunks, type ChunkSpec } from './retrieval.js';
import { freshVault, tempDir } from './vault.js';

// Vaults with several tenants and their documents, for the agent's tests.

export const embedder = new HashedEmbedder();

export interface AgentFixture {
  vault: Vault;
  dir: string;
  session: TenantSession;
  ids: Record<string, string>;
  /** Opens a tenant by its name in the fixture's one session (closing the one open before). */
  open(name: string): TenantHandle;
  dispose(): void;
}

/** One vault, one tenant per entry, each holding the given chunks. */
export async function agentFixture(tenants: Record<string, readonly string[] | readonly ChunkSpec[]>): Promise<AgentFixture> {
  const dir = tempDir('bulkhead-agent-');
  const vault = await freshVault(dir);
  const ids: Record<string, string> = {};
  const session = vault.openSession();
  for (const [name, texts] of Object.entries(tenants)) {
    ids[name] = vault.createTenant(name).id;
    const t = session.open(ids[name]!);
    if (texts.length > 0) await storeChunks(t, embedder, texts);
  }
  session.close();
  return {
    vault,
    dir,
    session,
    ids,
    open: (name) => session.open(ids[name]!),
    dispose: () => {
      vault.lock();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function modelConfig(baseUrl: string, overrides: Partial<ModelConfig> = {}): ModelConfig {
  return { baseUrl, name: 'test-model', apiKey: null, contextTokens: 8192, timeoutMs: 5000, maxRetries: 0, ...overrides };
}
