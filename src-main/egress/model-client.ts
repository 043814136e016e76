// The chat model client, made here and only here: its fetch is the tenant's egress, so the
// tenant's policy and held endpoints apply to every request the SDK makes (retries included).
// src-main/agent uses what this returns and never constructs a client (test/architecture.test.ts).
import OpenAI from 'openai';
import type { TenantHandle } from '../vault/handle.js';
import { tenantEgress, type EgressPurpose } from './egress.js';

export interface ModelEndpoint {
  baseUrl: string;
  apiKey: string | null;
  timeoutMs: number;
  maxRetries: number;
}

/** An OpenAI-compatible client for this tenant's endpoint, sending through this tenant's egress. */
export function tenantModelClient(
  tenant: TenantHandle,
  purpose: Extract<EgressPurpose, 'chat' | 'model-list' | 'connection-test'>,
  endpoint: ModelEndpoint,
): OpenAI {
  return new OpenAI({
    baseURL: endpoint.baseUrl,
    // A local server needs no key; the SDK insists on one, so the header is removed instead.
    apiKey: endpoint.apiKey ?? 'unused',
    ...(endpoint.apiKey ? {} : { defaultHeaders: { Authorization: null } }),
    organization: null,
    project: null,
    timeout: endpoint.timeoutMs,
    maxRetries: endpoint.maxRetries,
    fetch: tenantEgress(tenant, purpose).fetch,
    logLevel: 'off',
  });
}

/** What went wrong with a model call, in the SDK's terms, for a message that names no prompt. */
export type ModelFailure = { kind: 'timeout' } | { kind: 'connection' } | { kind: 'status'; status: number } | { kind: 'other' };

export function classifyModelFailure(err: unknown): ModelFailure {
  if (err instanceof OpenAI.APIConnectionTimeoutError) return { kind: 'timeout' };
  if (err instanceof OpenAI.APIConnectionError) return { kind: 'connection' };
  if (err instanceof OpenAI.APIError && err.status !== undefined) return { kind: 'status', status: err.status };
  return { kind: 'other' };
}
