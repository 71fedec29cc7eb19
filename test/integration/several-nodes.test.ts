import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import { haproxyFor, startFleet, type NodeFleet } from '../helpers/node-fleet.js';
import { send, CookieJar } from '../helpers/http-client.js';
import { csrfOf } from '../helpers/portal-harness.js';
import { startPostgres, type PostgresInstance } from '../helpers/postgres-core.mjs';
import { RawImapClient } from '../helpers/raw-imap-client.js';
import { addAppCode, enableTwoStep, MASTER } from '../helpers/twostep-config.js';

/**
 * Issue 16: two `twostep serve` nodes on one PostgreSQL, in front of the real Dovecot, with a real
 * HAProxy (PROXY protocol v2, from 127.0.0.2) in front of both. Clients come straight from
 * 127.0.0.1, or through HAProxy from 127.0.0.3 (the address the nodes must see).
 */

let pgd: PostgresInstance;
let dovecot: DovecotInstance;
let fleet: NodeFleet;
let dir: string;
const clients: RawImapClient[] = [];
let aliceCode = '';

async function imap(port: number, localAddress?: string): Promise<RawImapClient> {
  const c = await RawImapClient.connect({ port, ...(localAddress ? { localAddress } : {}) });
  clients.push(c);
  await c.greeting();
  return c;
}

/** The tagged answer to a LOGIN at `port` (the connection stays open on success). */
async function login(port: number, user: string, secret: string, localAddress?: string): Promise<{ answer: string; c: RawImapClient }> {
  const c = await imap(port, localAddress);
  return { answer: await c.command(`LOGIN ${user} ${secret}`), c };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twostep-nodes-'));
  pgd = await startPostgres();
  dovecot = await startDovecot({
    users: [
      { user: 'alice', password: 'alice-main-pw' },
      { user: 'bob', password: 'bob-main-pw' },
    ],
    master: MASTER,
  });
  fleet = await startFleet({ dir, url: await pgd.createDatabase(), dovecot, nodes: 2, proxyProtocolFrom: ['127.0.0.2'] });
  await enableTwoStep(fleet.configs[0] as string, 'alice');
  aliceCode = await addAppCode(fleet.configs[0] as string, 'alice', 'Phone'); // made on node A
}, 120_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await fleet?.stop();
  await dovecot?.stop();
  await pgd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

// A failed test shows how each node is (alive, or its exit code/signal) and its log's tail.
beforeEach(({ onTestFailed }) => onTestFailed(() => console.error(`several-nodes: after the failure:\n${fleet?.report() ?? 'no fleet'}\n--- postgres log tail:\n${pgd?.log().slice(-2_000) ?? ''}`)));

// Dozens of real logins and CLI runs per test: generous deadlines for a busy machine.
describe('two nodes on one PostgreSQL', { timeout: 60_000 }, () => {
  it('a code added on node A signs in on both nodes; the main password is refused on both', async () => {
    for (const n of fleet.nodes) {
      expect((await login(n.imapPort, 'alice', aliceCode)).answer).toMatch(/^t1 OK/m);
      expect((await login(n.imapPort, 'alice', 'alice-main-pw')).answer).toMatch(/^t1 NO \[AUTHENTICATIONFAILED\]/m);
    }
  });

  it('a revoke on node A (CLI) ends an IMAP IDLE session on node B within 1 s (no poll: it is an hour)', async () => {
    const code = await addAppCode(fleet.configs[0] as string, 'alice', 'Tablet');
    const { answer, c } = await login(fleet.nodes[1]!.imapPort, 'alice', code);
    expect(answer).toMatch(/^t1 OK/m);
    expect(await c.command('SELECT INBOX')).toMatch(/^t2 OK/m);
    c.write('t3 IDLE\r\n');
    await c.until(/^\+ /m);
    let closedAt = 0;
    const closed = c.waitClosed(10_000).then(() => (closedAt = performance.now()));
    const revoke = await fleet.cli(0, 'appcode', 'revoke', 'alice', 'Tablet');
    const revokedAt = performance.now();
    expect(revoke.code).toBe(0);
    await closed;
    expect(closedAt - revokedAt).toBeLessThan(1_000);
    expect((await login(fleet.nodes[1]!.imapPort, 'alice', code)).answer).toMatch(/^t1 NO/m);
  });

  it('behind HAProxy: the client address survives (Dovecot, audit, Last Used); 20 wrong attempts over both nodes count as 20', async () => {
    const proxy = await haproxyFor(fleet, 'v2');
    try {
      const through = proxy.ports.imap as number;
      expect((await login(through, 'alice', aliceCode, '127.0.0.3')).answer).toMatch(/^t1 OK/m);
      await expect.poll(() => /rip=127\.0\.0\.3/.test(dovecot.log()), { timeout: 5_000 }).toBe(true);
      const lastUsedIp = async () =>
        (JSON.parse((await fleet.cli(1, 'appcode', 'list', 'alice', '--json')).stdout) as { name: string; lastUsedIp: string }[]).find((x) => x.name === 'Phone')?.lastUsedIp;
      await expect.poll(lastUsedIp, { timeout: 10_000 }).toBe('127.0.0.3'); // written behind by the node
      const audit = JSON.parse((await fleet.cli(1, 'audit', '--user', 'alice', '--json')).stdout) as { event: string; ip: string }[];
      expect(audit.find((e) => e.event === 'login.ok')?.ip).toBe('127.0.0.3');

      // ip_failures = 20: wrong codes from 127.0.0.3, round robin over both nodes.
      for (let i = 0; i < 20; i++) expect((await login(through, 'alice', `WRONGCODEWRONG${String(i).padStart(2, '0')}`, '127.0.0.3')).answer).toMatch(/^t1 NO \[AUTHENTICATIONFAILED\]/m);
      for (const port of [through, through]) {
        expect((await login(port, 'bob', 'bob-main-pw', '127.0.0.3')).answer).toMatch(/^t1 NO \[UNAVAILABLE\] Too many failed logins/m);
      }
      // The count is the client's, not the balancer's: bob straight from 127.0.0.1 is let in.
      expect((await login(fleet.nodes[0]!.imapPort, 'bob', 'bob-main-pw')).answer).toMatch(/^t1 OK/m);
      // A client that is not the balancer may not name another address for itself.
      const spoof = await imap(fleet.nodes[0]!.imapPort);
      spoof.write('PROXY TCP4 198.51.100.1 127.0.0.1 5555 143\r\n');
      await spoof.waitClosed(5_000);
    } finally {
      await proxy.stop();
    }
  });

  it('a portal session signed in on node A is signed in on node B', async () => {
    const jar = new CookieJar();
    const [a, b] = fleet.nodes.map((n) => `http://127.0.0.1:${n.portalPort}`) as [string, string];
    const page = await send(`${a}/sign-in`);
    jar.take(page);
    const signIn = await send(`${a}/sign-in`, {
      method: 'POST',
      headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: csrfOf(page.body), email: 'bob', password: 'bob-main-pw' }).toString(),
    });
    jar.take(signIn);
    expect(signIn.status).toBe(303);
    const onB = await send(`${b}/preferences/accounts`, { headers: { cookie: jar.header() } });
    expect(onB.status).toBe(200);
    expect(onB.body).toContain('bob');
    const stranger = await send(`${b}/preferences/accounts`);
    expect(stranger.status).not.toBe(200);
  });

  it('PostgreSQL gone for 10 s: temporary failures and no accept, live sessions stay; then it recovers by itself', async () => {
    const live = (await login(fleet.nodes[0]!.imapPort, 'alice', aliceCode)).c; // also caches the verified code
    expect(await live.command('SELECT INBOX')).toMatch(/^t2 OK/m);
    await pgd.halt('SIGKILL');
    const downUntil = performance.now() + 10_000;
    let tries = 0;
    while (performance.now() < downUntil) {
      for (const n of fleet.nodes) {
        expect((await login(n.imapPort, 'alice', aliceCode)).answer).toMatch(/^t1 NO \[UNAVAILABLE\]/m);
        tries++;
      }
      expect(await live.command('NOOP')).toMatch(/ OK/);
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(tries).toBeGreaterThanOrEqual(4);
    await pgd.restart();
    for (const n of fleet.nodes) {
      await expect
        .poll(async () => (await login(n.imapPort, 'alice', aliceCode)).answer, { timeout: 20_000, interval: 500 })
        .toMatch(/^t1 OK/m);
    }
    expect(await live.command('NOOP')).toMatch(/ OK/);
  }, 90_000);

  it('kill -9 of node A: node B serves on, through HAProxy as well', async () => {
    const proxy = await haproxyFor(fleet, 'v1');
    try {
      await fleet.kill(0); // throws, with both nodes' logs, if node A was already gone
      for (let i = 0; i < 4; i++) expect((await login(proxy.ports.imap as number, 'alice', aliceCode, '127.0.0.4')).answer).toMatch(/^t1 OK/m);
      expect((await login(fleet.nodes[1]!.imapPort, 'alice', aliceCode)).answer).toMatch(/^t1 OK/m);
    } finally {
      await proxy.stop();
    }
  }, 60_000);
});
