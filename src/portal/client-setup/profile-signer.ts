import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TwostepError } from '../../core/errors.js';
import { limits } from '../../core/limits.js';

/** Signs a profile (the property list's bytes) into a CMS SignedData (DER) that Apple devices verify. */
export type ProfileSigner = (profile: Buffer) => Promise<Buffer>;

/**
 * Signing with the [tls] certificate and key through `openssl cms -sign` in a child process,
 * not a JavaScript library: OpenSSL is already what Node's TLS and twostep's init use, it reads
 * the key from its file (no key material passes through this process or a command line), and the
 * profile (it holds the new code) goes in on stdin and the signature out on stdout, never into a
 * file. The certificate file's further certificates (the chain) go along as -certfile: a copy
 * of them in a private temporary folder, made once (openssl refuses the signer's own
 * certificate twice). Rejects on an openssl failure or after limits.profileSignMs.
 */
export function opensslProfileSigner(certPath: string, keyPath: string): { sign: ProfileSigner; close(): void } {
  const pems = readFileSync(certPath, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  let chainDir: string | undefined;
  const args = ['cms', '-sign', '-signer', certPath, '-inkey', keyPath, '-outform', 'DER', '-nodetach', '-binary'];
  if (pems.length > 1) {
    chainDir = mkdtempSync(join(tmpdir(), 'twostep-chain-'));
    const chain = join(chainDir, 'chain.pem');
    writeFileSync(chain, `${pems.slice(1).join('\n')}\n`, { mode: 0o600 });
    args.push('-certfile', chain);
  }
  const sign: ProfileSigner = (profile) =>
    new Promise((resolve, reject) => {
      const child = spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      let size = 0;
      let err = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), limits.profileSignMs);
      child.stdout.on('data', (d: Buffer) => {
        size += d.length;
        if (size > limits.profileSignedBytes) child.kill('SIGKILL');
        else out.push(d);
      });
      child.stderr.on('data', (d: Buffer) => (err = (err + d.toString('utf8')).slice(-500)));
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(new TwostepError('INTERNAL', `cannot run openssl: ${e.message}`));
      });
      child.once('close', (code) => {
        clearTimeout(timer);
        if (code === 0 && size > 0 && size <= limits.profileSignedBytes) resolve(Buffer.concat(out));
        else reject(new TwostepError('INTERNAL', `openssl cms -sign failed (${code ?? 'killed'}): ${err.split('\n')[0] ?? ''}`));
      });
      child.stdin.on('error', () => {}); // a dead child is reported by 'close'
      child.stdin.end(profile);
    });
  return { sign, close: () => chainDir && rmSync(chainDir, { recursive: true, force: true }) };
}
