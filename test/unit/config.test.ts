import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig, resolveConfigPath } from '../../src/config/load-config.js';
import { readMasterPassword, secretKeyPath } from '../../src/config/runtime-config.js';
import { formatHostPort, parseHostPort } from '../../src/core/host-port.js';
import { isTwostepError } from '../../src/core/errors.js';
import { exampleConfigText, withSectionUncommented } from '../helpers/example-config.js';

const MINIMAL = '[backend]\nmaster_user = "proxymaster"\nmaster_password = "pw"\n';

function errorOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (isTwostepError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected an error');
}

describe('config', () => {
  it('fills every default from a minimal file', () => {
    const c = parseConfig(MINIMAL);
    expect(c.store.path).toBe('data/twostep.db');
    expect(c.imap).toEqual({
      listen: { host: '127.0.0.1', port: 1143 },
      listen_tls: { host: '127.0.0.1', port: 1993 },
      backend: { host: '127.0.0.1', port: 143 },
      backend_tls: 'none',
      backend_spares: 0,
    });
    expect(c.auth.allow_plaintext).toBe(false);
    expect(c.auth.failure_delay_ms).toBe(2000);
    expect(c.store.audit_retention_days).toBe(180);
    expect(c.codes.max_app_codes).toBe(25);
    expect(c.auth.revocation_poll_seconds).toBe(5);
    expect(secretKeyPath(c)).toBe(join('data', 'secret.key'));
  });

  it('loads the documented example file', () => {
    const c = parseConfig(exampleConfigText());
    expect(c.backend.master_password_file).toBe('config/master-password');
    expect(c.pop3).toBeUndefined(); // POP3 is off unless [pop3] is there
  });

  it('documents [pop3] with its defaults: uncommented, the example block turns POP3 on', () => {
    const c = parseConfig(withSectionUncommented(exampleConfigText(), 'pop3'));
    const defaults = {
      listen: { host: '127.0.0.1', port: 1110 },
      listen_tls: { host: '127.0.0.1', port: 1995 },
      backend: { host: '127.0.0.1', port: 110 },
      backend_tls: 'none',
    };
    expect(c.pop3).toEqual(defaults);
    expect(parseConfig(MINIMAL + '[pop3]\n').pop3).toEqual(defaults);
  });

  it.each([
    ['[backend]\nmaster_user = "p"\n', 'backend.master_password: set exactly one of master_password or master_password_file'],
    [MINIMAL + '[imap]\nlisten = "nope"\n', 'imap.listen: must be "host:port" for a listen address'],
    [MINIMAL + '[smtp]\nbackend = "nope"\n', 'smtp.backend: must be "host:port" for a backend address, e.g. "127.0.0.1:587"'],
    [MINIMAL + '[imap]\nlisten_tls = "127.0.0.1:0"\n', 'imap.listen_tls: port must be 1-65535'],
    [MINIMAL + '[imap]\nbackend = "127.0.0.1:70000"\n', 'imap.backend: port must be 1-65535'],
    [MINIMAL + '[imap]\nbackend_tls = "ssl"\n', 'imap.backend_tls:'],
    [MINIMAL + '[imap]\nlistne = "127.0.0.1:1"\n', 'imap.listne: unknown key'],
    [MINIMAL + '[auth]\nallow_plaintext = "yes"\n', 'auth.allow_plaintext:'],
    [MINIMAL + '[auth]\nrevocation_poll_seconds = 0\n', 'auth.revocation_poll_seconds:'],
    ['', 'backend: required key is missing'],
    ['[imap\n', 'not valid TOML (line 1'],
  ])('rejects bad input with one line naming the key: %#', (text, expected) => {
    const e = errorOf(() => parseConfig(text, 'twostep.toml'));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toContain(`twostep.toml: ${expected}`);
    expect(e.message).not.toContain('\n');
  });

  it('takes a PostgreSQL store (url, with its key file) and the balancers of the PROXY protocol', () => {
    const c = parseConfig(`${MINIMAL}[store]\nurl = "postgresql://twostep@/twostep?host=/run/postgresql"\nsecret_key_file = "/etc/twostep/secret.key"\n[server]\nproxy_protocol_from = ["10.0.0.5", "10.0.1.0/24", "2001:db8::/32"]\n`);
    expect(c.store.url).toBe('postgresql://twostep@/twostep?host=/run/postgresql');
    expect(c.server.proxy_protocol_from).toEqual(['10.0.0.5', '10.0.1.0/24', '2001:db8::/32']);
    expect(parseConfig(MINIMAL).server.proxy_protocol_from).toEqual([]);
    expect(parseConfig(MINIMAL).store.url).toBeUndefined();
    expect(errorOf(() => parseConfig(`${MINIMAL}[store]\nurl = "postgres://db/twostep"\n`)).message).toBe(
      'config: store.secret_key_file: required with store.url: every node needs the same key file (copy it from the first node)',
    );
    expect(errorOf(() => parseConfig(`${MINIMAL}[store]\nurl = "mysql://db/twostep"\nsecret_key_file = "k"\n`)).message).toBe(
      'config: store.url: must be a "postgres://" or "postgresql://" URL',
    );
    for (const bad of ['10.0.0.0/33', 'lb.example.org', '10.0.0.1/8/1', '::1/129']) {
      expect(errorOf(() => parseConfig(`${MINIMAL}[server]\nproxy_protocol_from = ["${bad}"]\n`)).message, bad).toBe(
        'config: server.proxy_protocol_from.0: must be an IP address or a network such as "10.0.0.0/24"',
      );
    }
  });

  it('says how to start when the file is missing', () => {
    const e = errorOf(() => loadConfig('/nonexistent/twostep.toml'));
    expect(e.code).toBe('CONFIG_NOT_FOUND');
    expect(e.message).toMatch(/twostep init/);
  });

  it('takes --config, then $TWOSTEP_CONFIG, then config/twostep.toml', () => {
    const saved = process.env.TWOSTEP_CONFIG;
    try {
      delete process.env.TWOSTEP_CONFIG;
      expect(resolveConfigPath()).toBe('config/twostep.toml');
      process.env.TWOSTEP_CONFIG = '/etc/twostep.toml';
      expect(resolveConfigPath()).toBe('/etc/twostep.toml');
      expect(resolveConfigPath('x.toml')).toBe('x.toml');
    } finally {
      if (saved === undefined) delete process.env.TWOSTEP_CONFIG;
      else process.env.TWOSTEP_CONFIG = saved;
    }
  });

  it('reads the master password from a file, first line only, and keeps it redacted', () => {
    const dir = mkdtempSync(join(tmpdir(), 'twostep-cfg-'));
    const file = join(dir, 'mp');
    writeFileSync(file, 's3cret-pw\n');
    const c = parseConfig(`[backend]\nmaster_user = "p"\nmaster_password_file = "${file}"\n`);
    const secret = readMasterPassword(c);
    expect(secret.reveal()).toBe('s3cret-pw');
    expect(JSON.stringify({ secret })).not.toContain('s3cret');
    const missing = parseConfig(`[backend]\nmaster_user = "p"\nmaster_password_file = "${join(dir, 'nope')}"\n`);
    expect(errorOf(() => readMasterPassword(missing)).message).toBe(
      `backend.master_password_file ${join(dir, 'nope')}: cannot read: no such file (ENOENT)`,
    );
  });

  it('parses every address key once, including IPv6 and host names', () => {
    const c = parseConfig(`${MINIMAL}[imap]\nlisten = "[::1]:143"\nlisten_tls = ""\nbackend = "mail.example.com:1143"\n[portal]\n`);
    expect(c.imap.listen).toEqual({ host: '::1', port: 143 });
    expect(c.imap.listen_tls).toBeNull();
    expect(c.imap.backend).toEqual({ host: 'mail.example.com', port: 1143 });
    expect(c.portal?.listen).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(formatHostPort({ host: '::1', port: 143 })).toBe('[::1]:143');
    expect(parseHostPort('[::1]:993')).toEqual({ host: '::1', port: 993 });
  });
});
