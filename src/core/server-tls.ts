import { constants } from 'node:crypto';
import tls from 'node:tls';

/**
 * TLS 1.2 suites a client may pick: forward secrecy (ECDHE) and authenticated encryption (GCM,
 * ChaCha20-Poly1305) only, as Mozilla's "intermediate" profile without DHE (slow, and weak where
 * a client offers small groups). No static RSA, no CBC, no CCM8, no ARIA or CAMELLIA. TLS 1.3's
 * own suites (all AEAD) are left as OpenSSL has them.
 */
export const DEFAULT_TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

export type TlsMinVersion = 'TLSv1.2' | 'TLSv1.3';

/** The [tls] keys that shape every TLS server of twostep (mail listeners, STARTTLS, the portal). */
export interface ServerTlsSettings {
  min_version: TlsMinVersion;
  /** OpenSSL cipher list for TLS 1.2. */
  ciphers: string;
}

/**
 * Options for tls.createSecureContext / https.createServer: minimum version, ciphers, and no
 * renegotiation at all (a client-initiated renegotiation costs the server a full handshake each
 * time and has had its own attacks; no mail client needs it).
 */
export function serverTlsOptions(s: ServerTlsSettings): Pick<tls.SecureContextOptions, 'minVersion' | 'ciphers' | 'secureOptions'> {
  return {
    minVersion: s.min_version,
    ciphers: s.ciphers,
    secureOptions: constants.SSL_OP_NO_RENEGOTIATION,
  };
}

/**
 * The secure context of twostep's TLS listeners; throws on a bad certificate, key or cipher list.
 * `ticketKeys` (48 bytes): the keys of its session tickets, the same in every worker of [server]
 * workers so a ticket one issued resumes at another; absent: OpenSSL's own, new per context.
 */
export function createServerSecureContext(files: { cert: Buffer; key: Buffer }, s: ServerTlsSettings, ticketKeys?: Buffer): tls.SecureContext {
  return tls.createSecureContext({ ...files, ...serverTlsOptions(s), ...(ticketKeys ? { ticketKeys } : {}) });
}
