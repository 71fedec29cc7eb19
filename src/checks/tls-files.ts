import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import { createServerSecureContext } from '../core/server-tls.js';
import type { Config } from '../config/schema.js';
import { readFileOrConfigError } from '../config/runtime-config.js';
import { configFileError } from '../core/config-file-error.js';

export interface TlsFiles {
  /** The PEM files as read, for the portal's HTTPS server. */
  files: { cert: Buffer; key: Buffer };
  secureContext: SecureContext;
  /** The first certificate of tls.cert (the server's own; a chain may follow). */
  certificate: X509Certificate;
}

function parseCertificate(path: string, pem: Buffer): X509Certificate {
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw configFileError('tls.cert', path, 'not a PEM certificate');
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw configFileError('tls.cert', path, 'not a PEM certificate', err);
  }
}

function parseKey(path: string, pem: Buffer): KeyObject {
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pem.toString('latin1'))) {
    throw configFileError('tls.key', path, 'an encrypted private key: twostep needs it without a passphrase');
  }
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw configFileError('tls.key', path, 'not a PEM private key', err);
  }
}

/**
 * [tls] cert and key, read and checked before use: every problem is one line naming the key and
 * the path ("tls.cert config/tls/cert.pem: not a PEM certificate") instead of OpenSSL's words.
 */
export function loadTlsFiles(config: Config, ticketKeys?: Buffer): TlsFiles {
  const { cert: certPath, key: keyPath } = config.tls;
  const files = { cert: readFileOrConfigError('tls.cert', certPath), key: readFileOrConfigError('tls.key', keyPath) };
  const certificate = parseCertificate(certPath, files.cert);
  const key = parseKey(keyPath, files.key);
  if (!certificate.checkPrivateKey(key)) {
    throw configFileError('tls.key', keyPath, `not the key of the certificate in tls.cert ${certPath}`);
  }
  try {
    createSecureContext({ ciphers: config.tls.ciphers });
  } catch (err) {
    throw configFileError('tls.ciphers', config.tls.ciphers, 'no cipher OpenSSL knows', err);
  }
  let secureContext: SecureContext;
  try {
    secureContext = createServerSecureContext(files, config.tls, ticketKeys);
  } catch (err) {
    // Parsed above, so rare (e.g. a key type OpenSSL's TLS refuses); still name the files.
    throw configFileError('tls.cert', certPath, `unusable with tls.key ${keyPath}: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  return { files, secureContext, certificate };
}

/** "CN=mail.example.com, valid until 2026-03-01" (or "EXPIRED on ..."), for `twostep check` and the start-up log. */
export function describeCertificate(c: X509Certificate, now = new Date()): { text: string; expired: boolean } {
  const until = new Date(c.validTo);
  const expired = until.getTime() < now.getTime();
  const day = until.toISOString().slice(0, 10);
  const subject = c.subject.split('\n').find((l) => l.startsWith('CN=')) ?? c.subject.replace(/\n/g, ', ');
  return { text: `${subject}, ${expired ? `EXPIRED on ${day}` : `valid until ${day}`}`, expired };
}
