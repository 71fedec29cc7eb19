import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { limits } from '../../src/core/limits.js';
import { openFileLimit } from '../../src/core/open-files.js';
import { configChanges } from '../../src/server/config-changes.js';
import { connectionBudget, reservedFiles } from '../../src/server/connection-budget.js';

const BASE = '[backend]\nmaster_user = "m"\nmaster_password = "p"\n';

describe('a reload sorts what changed', () => {
  it('applies live keys, keeps restart-only keys at their running values, and names both', () => {
    const before = parseConfig(`${BASE}[imap]\nlisten = "127.0.0.1:1143"\n[log]\nlevel = "info"\n[auth]\nfailure_delay_ms = 2000\n`);
    const after = parseConfig(
      `${BASE}[imap]\nlisten = "127.0.0.1:2143"\n[pop3]\n[log]\nlevel = "debug"\n[auth]\nfailure_delay_ms = 500\nallow_plaintext = true\n` +
        `[tls]\ncert = "new.pem"\n[limits]\nmax_connections = 10\n[server]\nshutdown_grace_seconds = 5\n`,
    );
    const c = configChanges(before, after);
    expect(c.live.sort()).toEqual(['auth.failure_delay_ms', 'limits.max_connections', 'log.level', 'server.shutdown_grace_seconds', 'tls.cert']);
    expect(c.restart.sort()).toEqual(['auth.allow_plaintext', 'imap.listen', 'pop3']);
    expect(c.effective.log.level).toBe('debug');
    expect(c.effective.auth.failure_delay_ms).toBe(500);
    expect(c.effective.tls.cert).toBe('new.pem');
    expect(c.effective.imap.listen).toEqual({ host: '127.0.0.1', port: 1143 }); // still the bound one
    expect(c.effective.auth.allow_plaintext).toBe(false);
    expect(c.effective.pop3).toBeUndefined(); // a new section waits for a restart
    expect(after.imap.listen).toEqual({ host: '127.0.0.1', port: 2143 }); // the parsed file is not touched
  });

  it('a removed section waits for a restart too; portal lifetimes apply at once, its listener does not', () => {
    const before = parseConfig(`${BASE}[smtp]\n[portal]\nsession_idle_minutes = 30\n`);
    const after = parseConfig(`${BASE}[portal]\nsession_idle_minutes = 5\nlisten = "127.0.0.1:9999"\n`);
    const c = configChanges(before, after);
    expect(c.live).toEqual(['portal.session_idle_minutes']);
    expect(c.restart.sort()).toEqual(['portal.listen', 'smtp']);
    expect(c.effective.smtp).toEqual(before.smtp);
    expect(c.effective.portal?.session_idle_minutes).toBe(5);
    expect(c.effective.portal?.listen).toEqual(before.portal?.listen);
  });

  it('nothing changed: nothing to say', () => {
    const c = configChanges(parseConfig(BASE), parseConfig(BASE));
    expect([c.live, c.restart]).toEqual([[], []]);
  });
});

describe('connection limits sized to the open-file limit', () => {
  it('reads the soft limit from /proc/self/limits', () => {
    const text = 'Limit                     Soft Limit           Hard Limit           Units\nMax open files            256                  4096                 files\n';
    expect(openFileLimit(text)).toBe(256);
    expect(openFileLimit(text.replace('256 ', 'unlimited '))).toBeUndefined();
    expect(typeof openFileLimit()).toBe('number'); // this machine has /proc
  });

  it('unset: two files per session, the reserve and the waiting line kept; per IP the default', () => {
    const config = parseConfig(BASE);
    const b = connectionBudget(config, 1024);
    const forClients = 1024 - reservedFiles(config);
    expect(b.limits.maxWaiting).toBe(Math.floor(forClients / 8));
    expect(b.limits.maxConnections).toBe(Math.floor((forClients - b.limits.maxWaiting) / 2));
    expect(b.limits.maxPerIp).toBe(limits.maxConnectionsPerIpDefault);
    expect(b.lowered).toEqual([]);
    // The portal and the verify service keep files for their own clients.
    const more = parseConfig(`${BASE}[portal]\n[dovecot]\n`);
    expect(reservedFiles(more)).toBe(reservedFiles(config) + limits.fdReservePortal + limits.verifyMaxConnections);
  });

  it('a configured value that does not fit is lowered, with a line naming the key and the fd limit', () => {
    const b = connectionBudget(parseConfig(`${BASE}[limits]\nmax_connections = 10000\nmax_connections_per_ip = 5000\n`), 256);
    expect(b.limits.maxConnections).toBeLessThan(128);
    expect(b.limits.maxPerIp).toBe(b.limits.maxConnections);
    expect(b.lowered[0]).toMatch(/^limits\.max_connections 10000 does not fit the open-file limit 256 .*using \d+; raise LimitNOFILE=/);
    expect(b.lowered[1]).toMatch(/^limits\.max_connections_per_ip 5000 is above max_connections/);
    // A value that fits is kept as it is.
    expect(connectionBudget(parseConfig(`${BASE}[limits]\nmax_connections = 20\n`), 256).limits.maxConnections).toBe(20);
  });

  it('an fd limit below the reserve still lets one client in; an unknown one takes the configured value', () => {
    expect(connectionBudget(parseConfig(BASE), 64).limits).toEqual({ maxConnections: 1, maxPerIp: 1, maxWaiting: 1 });
    expect(connectionBudget(parseConfig(`${BASE}[limits]\nmax_connections = 7\n`), undefined).limits.maxConnections).toBe(7);
  });
});
