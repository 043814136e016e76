import crypto from 'node:crypto';

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** t_ + 128 random bits in lowercase base32: safe in any file system, says nothing of the client. */
export function newTenantId(): string {
  const bytes = crypto.randomBytes(16);
  let bits = 0;
  let value = 0;
  let out = 't_';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}
