import { Secret } from '../../core/secret.js';
import { decodeBase64Strict, decodeUtf8Strict } from './base64-strict.js';

export type SaslPlainResult =
  | { ok: true; authzid: string; authcid: string; password: Secret }
  | { ok: false };

/**
 * SASL PLAIN (RFC 4616): base64(authzid NUL authcid NUL passwd). Strict: invalid base64, invalid
 * UTF-8, a NUL count other than two or an empty authcid is malformed.
 */
export function decodeSaslPlain(b64: string): SaslPlainResult {
  const raw = decodeBase64Strict(b64);
  if (!raw) return { ok: false };
  const first = raw.indexOf(0);
  const second = first < 0 ? -1 : raw.indexOf(0, first + 1);
  if (first < 0 || second < 0 || raw.indexOf(0, second + 1) >= 0) return { ok: false };
  const authzid = decodeUtf8Strict(raw.subarray(0, first));
  const authcid = decodeUtf8Strict(raw.subarray(first + 1, second));
  const password = decodeUtf8Strict(raw.subarray(second + 1));
  raw.fill(0);
  if (authzid === null || authcid === null || password === null || authcid === '') return { ok: false };
  return { ok: true, authzid, authcid, password: new Secret(password) };
}

/** base64(authzid NUL authcid NUL password) for an upstream AUTHENTICATE PLAIN. */
export function encodeSaslPlain(authzid: string, authcid: string, password: Secret): string {
  return Buffer.from(`${authzid}\0${authcid}\0${password.reveal()}`, 'utf8').toString('base64');
}
