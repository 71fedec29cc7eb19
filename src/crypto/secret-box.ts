import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { TwostepError } from '../core/errors.js';

/**
 * Secrets at rest (TOTP keys, one-time codes kept for "View"): AES-256-GCM.
 * Blob layout: version (1 byte, 0x01) | nonce (12) | tag (16) | ciphertext.
 * `context` is bound as additional authenticated data (e.g. "totp:42"), so a blob copied into
 * another row or column does not decrypt.
 */
const VERSION = 0x01;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
export const SECRET_BOX_KEY_BYTES = 32;

function checkKey(key: Buffer): void {
  if (key.length !== SECRET_BOX_KEY_BYTES) {
    throw new TwostepError('CONFIG_INVALID', `encryption key must be ${SECRET_BOX_KEY_BYTES} bytes`);
  }
}

export function encryptSecret(key: Buffer, plaintext: string, context: string): Buffer {
  checkKey(key);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), nonce, cipher.getAuthTag(), ct]);
}

/** Throws TwostepError('INTERNAL') when the blob is malformed, tampered with or under another key. */
export function decryptSecret(key: Buffer, blob: Buffer, context: string): string {
  checkKey(key);
  if (blob.length < 1 + NONCE_BYTES + TAG_BYTES || blob[0] !== VERSION) {
    throw new TwostepError('INTERNAL', 'encrypted secret has an unknown format');
  }
  const nonce = blob.subarray(1, 1 + NONCE_BYTES);
  const tag = blob.subarray(1 + NONCE_BYTES, 1 + NONCE_BYTES + TAG_BYTES);
  const ct = blob.subarray(1 + NONCE_BYTES + TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ct), decipher.final()]).toString('utf8');
  } catch (cause) {
    throw new TwostepError('INTERNAL', 'encrypted secret failed authentication (wrong key or tampered)', { cause });
  }
}
