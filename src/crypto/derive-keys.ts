import { createHmac, hkdfSync } from 'node:crypto';
import { TwostepError } from '../core/errors.js';
import { MASTER_KEY_BYTES } from './key-file.js';

export interface DerivedKeys {
  /** AES-256-GCM key for secrets at rest. */
  encryptionKey: Buffer;
  /** HMAC-SHA256 key for code lookup indexes. */
  lookupKey: Buffer;
}

/** Independent subkeys from the master key (HKDF-SHA256, one info label per use). */
export function deriveKeys(masterKey: Buffer): DerivedKeys {
  if (masterKey.length !== MASTER_KEY_BYTES) {
    throw new TwostepError('CONFIG_INVALID', `master key must be ${MASTER_KEY_BYTES} bytes`);
  }
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), info, 32));
  return {
    encryptionKey: derive('twostep/secret-box/v1'),
    lookupKey: derive('twostep/code-lookup/v1'),
  };
}

/**
 * Index value for a normalized code: HMAC-SHA256(lookupKey, code), hex. Lets a login find the one
 * candidate row, so it costs a single argon2 verification however many codes exist.
 */
export function codeLookup(lookupKey: Buffer, normalizedCode: string): string {
  return createHmac('sha256', lookupKey).update(normalizedCode, 'utf8').digest('hex');
}
