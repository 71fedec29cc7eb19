// Self-signed test certificate through the openssl CLI (plain JS, shared with the demo).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Write DIR/test-cert.pem and DIR/test-key.pem: self-signed, CN=localhost,
 * SAN DNS:localhost + IP:127.0.0.1, valid for 2 days, RSA 2048 (every client accepts it).
 * The key is 0644 on purpose: it is a throw-away test key that Dovecot and Postfix
 * (running as other users) may need to read.
 * @param {string} dir
 * @returns {{ cert: string, key: string, certPem: string, keyPem: string }}
 */
export function makeTestCert(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const cert = path.join(path.resolve(dir), 'test-cert.pem');
  const key = path.join(path.resolve(dir), 'test-key.pem');
  const r = spawnSync(
    'openssl',
    [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2',
      '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout', key, '-out', cert,
    ],
    { encoding: 'utf8' },
  );
  if (r.error || r.status !== 0) {
    const why = r.error ? String(r.error) : r.stderr;
    throw new Error(`openssl could not make a test certificate (is openssl installed? run the .ci/run install step): ${why}`);
  }
  fs.chmodSync(cert, 0o644);
  fs.chmodSync(key, 0o644);
  return { cert, key, certPem: fs.readFileSync(cert, 'utf8'), keyPem: fs.readFileSync(key, 'utf8') };
}
