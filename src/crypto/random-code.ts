import { randomBytes } from 'node:crypto';

/**
 * `length` symbols drawn uniformly from `alphabet` with a CSPRNG. Rejection sampling: a byte is
 * used only when it falls below the largest multiple of the alphabet size, so no symbol is
 * favoured (a plain `byte % n` would be biased).
 */
export function randomCode(alphabet: string, length: number): string {
  const n = alphabet.length;
  if (n < 2 || n > 256) throw new RangeError('alphabet must have 2-256 symbols');
  const limit = 256 - (256 % n);
  let out = '';
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b >= limit) continue;
      out += alphabet[b % n];
      if (out.length === length) break;
    }
  }
  return out;
}
