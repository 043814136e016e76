import { z } from 'zod';

/** Tenant ids are random, carry no client name, and are the only thing ever used in a path. */
export const TenantId = z.string().regex(/^t_[a-z2-7]{26}$/, 'a tenant id looks like t_ followed by 26 base32 letters');
export type TenantId = z.infer<typeof TenantId>;

export const DISPLAY_NAME_MAX = 100;

// Control characters (C0, DEL, C1), line and paragraph separators, and the bidi overrides that can
// make a name render as another (look-alikes are src-main/vault/names.ts's business).
const FORBIDDEN_IN_NAME = /[\p{Cc}\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C\uFEFF\u2028\u2029]/u;

/**
 * A client's display name as the user typed it. It is shown, never used in a path, so
 * separators and dots are fine ("AC/DC", "..Studio"); what could mislead a reader is not.
 */
export const DisplayName = z
  .string({ error: 'a tenant name must be text' })
  .transform((s) => s.normalize('NFC').trim())
  .pipe(
    z
      .string()
      .min(1, 'a tenant name cannot be empty')
      .max(DISPLAY_NAME_MAX, `a tenant name can be at most ${DISPLAY_NAME_MAX} characters`)
      .refine((s) => !FORBIDDEN_IN_NAME.test(s), 'a tenant name cannot contain control characters or direction overrides'),
  );

/** The key two names collide on: "ACME", "acme" and "Ａｃｍｅ" are one client. */
export function nameKey(displayName: string): string {
  return displayName.normalize('NFKC').toLocaleLowerCase('en-US').replace(/\s+/gu, ' ');
}

export const TenantSummary = z.object({
  id: TenantId,
  name: z.string(),
  createdAt: z.string(),
  keyVersion: z.number().int().positive(),
});
export type TenantSummary = z.infer<typeof TenantSummary>;

export const Passphrase = z
  .string({ error: 'a passphrase must be text' })
  .min(8, 'a passphrase needs at least 8 characters')
  .max(1024, 'a passphrase can be at most 1024 characters');
