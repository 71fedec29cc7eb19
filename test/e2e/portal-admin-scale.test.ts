import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { seedAuditEvents, seedUsers, type SeededDay, type SeededEvent } from '../../bench/lib/console-seed.mjs';
import { openStore } from '../../src/store/index.js';
import { CSP } from '../../src/portal/security/headers.js';
import { launchChromium, saveScreenshot } from '../helpers/browser.js';
import { startPortalEnv, TestAuthenticator, walkSetupWizard, type PortalEnv } from '../helpers/portal-env.js';

/**
 * Issue 17 in a real headless Chromium against `twostep serve` and a real Dovecot: an organisation
 * of 100,000 users in three domains and 20,000 audit events of the last 30 days, seeded through the
 * store (batched transactions, as the bench does, not a CLI call each). A new admin proves the
 * authenticator before anything works; the overview's numbers are the seeded ones; search, paging
 * and filters find what they must; the filtered audit downloads as CSV and JSON that parse; a
 * domain set to require makes a new user of it required. Tests run in order.
 */

const ADMIN = 'chief';
const ADMIN_PASSWORD = 'a long admin console password';
const NEWBIE = { user: 'newbie@fresh.example', password: 'newbie-main-pw' };
const DOMAINS = [
  { domain: 'corp.example', users: 60_000, mix: { off: 1, allowed: 2, required: 3, on: 4 }, policy: 'required' as const, followEvery: 5 },
  { domain: 'sales.example', users: 30_000, mix: { allowed: 1, required: 1, on: 2 }, policy: 'allowed' as const, followEvery: 3 },
  { domain: 'lab.example', users: 10_000, mix: { off: 3, allowed: 1, on: 1 } },
];

let env: PortalEnv;
let browser: Browser;
let ctx: BrowserContext;
let admin: Page;
let phone: TestAuthenticator;
let seeded: Awaited<ReturnType<typeof seedUsers>>;
let perDay: Record<string, SeededDay>;
let events: SeededEvent[];
let sorted: string[];
const cspViolations: string[] = [];

beforeAll(async () => {
  env = await startPortalEnv([NEWBIE]);
  const pwFile = join(env.dir, 'admin-password');
  writeFileSync(pwFile, `${ADMIN_PASSWORD}\n`, { mode: 0o600 });
  const add = await env.cli('admin', 'add', ADMIN, '--password-file', pwFile);
  expect(add.code, add.stderr).toBe(0);
  phone = new TestAuthenticator(/^key: ([A-Z2-7]+)$/m.exec(add.stdout)?.[1] as string);
  // The organisation, written by this process into the database `serve` uses (WAL: both at once).
  const store = await openStore(join(env.dir, 'data', 'twostep.db'));
  try {
    const now = Date.now();
    seeded = await seedUsers(store, { now, domains: DOMAINS });
    ({ perDay, events } = await seedAuditEvents(store, { now, days: 29, count: 20_000, users: seeded.users, keep: true }));
  } finally {
    await store.close();
  }
  sorted = [...seeded.users].sort();
  browser = await launchChromium();
  ctx = await browser.newContext();
  admin = await ctx.newPage();
  admin.on('console', (m) => {
    if (/Content.Security.Policy/i.test(m.text())) cspViolations.push(m.text());
  });
}, 300_000);

let last: Page | undefined;
afterEach(async (t) => {
  await saveScreenshot(last ?? admin, `portal-admin-scale-${t.task.name}`);
  last = undefined;
});

afterAll(async () => {
  await browser?.close();
  await env?.stop();
});

/** The text of each cell of these rows (also of a table inside a closed <details>). */
async function cells(selector: string): Promise<string[][]> {
  return admin.locator(selector).evaluateAll((rows) =>
    rows.map((r) => Array.from((r as unknown as { cells: ArrayLike<{ textContent: string | null }> }).cells, (c) => (c.textContent ?? '').replace(/\s+/g, ' ').trim())),
  );
}

const userNames = async () => (await cells('#users tbody tr')).map((r) => r[0] as string);

/** RFC 4180: quoted cells with "" inside, CRLF between records. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      }
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    }
    else cell += ch;
  }
  return rows;
}

describe('the admin console of an organisation of 100,000 users', { timeout: 120_000 }, () => {
  it('an admin added by the CLI cannot act before confirming a code', async () => {
    await admin.goto(`${env.url}/admin/sign-in`);
    await admin.getByLabel('Admin name').fill(ADMIN);
    await admin.getByLabel('Password').fill(ADMIN_PASSWORD);
    await admin.getByLabel('6-digit code').fill(await phone.nextCode());
    await admin.getByRole('button', { name: 'Sign in' }).click();
    expect(admin.url()).toMatch(/\/admin\/confirm$/);
    for (const path of ['/admin', '/admin/users', '/admin/domains', '/admin/audit', '/admin/audit/export.csv']) {
      await admin.goto(`${env.url}${path}`);
      expect(admin.url(), path).toMatch(/\/admin\/confirm$/);
    }
    // A form sent with this session's own CSRF token does nothing either.
    const csrf = (await admin.locator('input[name=csrf]').first().getAttribute('value')) as string;
    const r = await admin.request.post(`${env.url}/admin/domains/policy`, { form: { csrf, domain: 'lab.example', policy: 'disallowed' }, maxRedirects: 0 });
    expect(r.status()).toBe(303);
    expect(r.headers().location).toBe('/admin/confirm');
    expect((await env.cli('domain', 'list')).stdout).not.toContain('lab.example');
    expect((await env.cli('admin', 'list')).stdout).toMatch(/^chief {2}created \S+ {2}authenticator not confirmed yet$/m);

    await admin.getByLabel('Next 6-digit code').fill('000000');
    await admin.getByRole('button', { name: 'Confirm' }).click();
    expect(await admin.getByRole('alert').textContent()).toContain('not the next one');
    await admin.getByLabel('Next 6-digit code').fill(await phone.nextCode());
    await admin.getByRole('button', { name: 'Confirm' }).click();
    expect(admin.url()).toMatch(/\/admin$/);
    expect((await env.cli('admin', 'list')).stdout).toMatch(/^chief {2}created \S+$/m);
  });

  it("the overview's numbers match the seeded data; the chart is inline SVG under the CSP", async () => {
    const response = await admin.goto(`${env.url}/admin`);
    expect(response?.headers()['content-security-policy']).toBe(CSP);
    const rows = await cells('#rollout tbody tr');
    for (const d of DOMAINS) {
      const c = seeded.counts[d.domain]!;
      const row = rows.find((r) => r[0] === d.domain);
      const n = (x: number) => x.toLocaleString('en-US');
      expect(row, d.domain).toEqual([d.domain, d.policy ? { allowed: 'Allowed', required: 'Required' }[d.policy] : '-', n(d.users), n(c.off), n(c.allowed), n(c.required), n(c.on), `${Math.floor((c.on / d.users) * 100)} %`]);
    }
    const total = (await cells('#rollout tfoot tr'))[0]!;
    expect(total.slice(0, 3)).toEqual(['All users', '', '100,000']);

    const days = await cells('#rollout-days tbody tr');
    expect(days).toHaveLength(30);
    const header = (await cells('#rollout-days thead tr'))[0];
    expect(header).toEqual(['Day (UTC)', 'Enrolments', 'IMAP app-code logins', 'POP3 app-code logins', 'SMTP app-code logins', 'Refused main-password logins', 'Lockouts']);
    let compared = 0;
    for (const [date, e, imap, pop3, smtp, refused, lockouts] of days) {
      const want = perDay[date as string] ?? { enrolments: 0, appCodeLogins: {}, refusedMainPassword: 0, lockouts: 0 };
      const a = want.appCodeLogins;
      expect([e, imap, pop3, smtp, refused, lockouts].map((x) => Number(x?.replace(/,/g, ''))), date).toEqual([
        want.enrolments, a.imap ?? 0, a.pop3 ?? 0, a.smtp ?? 0, want.refusedMainPassword, want.lockouts,
      ]);
      if (want.enrolments > 0) compared++;
    }
    expect(compared).toBeGreaterThan(25);
    expect(await admin.locator('figure.chart svg[role=img] rect').count()).toBeGreaterThan(100);
    expect(await admin.locator('[style]').count()).toBe(0);
    expect((await admin.locator('#chase li').allInnerTexts()).length).toBe(20);
    expect(cspViolations).toEqual([]);
    await admin.screenshot({ path: join('test-artifacts', 'e2e', 'admin-console-overview.png'), fullPage: true });
  });

  it('search finds one user among 100,000; paging walks forward and back; filters combine', async () => {
    await admin.getByRole('link', { name: 'Users', exact: true }).click();
    await admin.getByLabel('Find a user').fill('USER012345@sales');
    await admin.getByRole('button', { name: 'Search' }).click();
    expect(await userNames()).toEqual(['user012345@sales.example']);
    // Every 3rd sales user follows the domain (allowed), and this one has not set up.
    expect((await cells('#users tbody tr'))[0]?.slice(0, 5)).toEqual(['user012345@sales.example', 'Off', '0', '0', 'Allowed (domain)']);

    await admin.getByRole('link', { name: 'Clear' }).click();
    const pages: string[][] = [await userNames()];
    for (let i = 0; i < 3; i++) {
      await admin.getByRole('link', { name: 'Next →' }).click();
      pages.push(await userNames());
    }
    expect(pages.flat()).toEqual(sorted.slice(0, 200));
    await admin.getByRole('link', { name: '← Previous' }).click();
    expect(await userNames()).toEqual(pages[2]);
    await admin.getByRole('link', { name: '← Previous' }).click();
    expect(await userNames()).toEqual(pages[1]);
    await admin.getByRole('link', { name: '← Previous' }).click();
    expect(await userNames()).toEqual(pages[0]);
    expect(await admin.getByRole('link', { name: '← Previous' }).count()).toBe(0);

    await admin.getByLabel('Find a user').fill('99');
    await admin.getByLabel('State', { exact: true }).selectOption({ label: 'Required, not set up' });
    await admin.getByLabel('Domain', { exact: true }).fill('corp.example');
    await admin.getByRole('button', { name: 'Search' }).click();
    const want = sorted.filter((u) => u.endsWith('@corp.example') && u.includes('99') && seeded.states.get(u) === 'required');
    expect(await userNames()).toEqual(want.slice(0, 50));
    await admin.getByRole('link', { name: 'Next →' }).click();
    expect(await userNames()).toEqual(want.slice(50, 100));
    expect(admin.url()).toMatch(/q=99.*state=required.*domain=corp\.example.*after=/);
  });

  it('the filtered audit log downloads as CSV and JSON, which parse and hold exactly the matching events', async () => {
    const since = new Date(Date.now() - 10 * 86_400_000).toISOString().slice(0, 16);
    await admin.goto(`${env.url}/admin/audit`);
    await admin.getByLabel('Event').fill('login.fail');
    await admin.getByLabel('Protocol').selectOption('imap');
    await admin.getByLabel('From (UTC)').fill(since);
    await admin.getByRole('button', { name: 'Filter' }).click();
    const want = events.filter((e) => e.event === 'login.fail' && e.protocol === 'imap' && e.at >= Date.parse(`${since}Z`)).reverse();
    expect(want.length).toBeGreaterThan(150); // more than a page
    expect(await admin.locator('#audit tbody tr').count()).toBe(100);

    const [csv] = await Promise.all([admin.waitForEvent('download'), admin.getByRole('link', { name: 'CSV' }).click()]);
    expect(csv.suggestedFilename()).toMatch(/^twostep-audit-\d{8}T\d{6}\.csv$/);
    const rows = parseCsv(readFileSync(await csv.path(), 'utf8'));
    expect(rows[0]).toEqual(['time', 'user', 'event', 'protocol', 'ip', 'detail']);
    expect(rows.slice(1).map((r) => [Date.parse(r[0] as string), r[1], r[2], r[3], r[4], (JSON.parse(r[5] as string) as { cid: string }).cid])).toEqual(
      want.map((e) => [e.at, e.username, 'login.fail', 'imap', e.ip, e.detail.cid]),
    );
    const [json] = await Promise.all([admin.waitForEvent('download'), admin.getByRole('link', { name: 'JSON' }).click()]);
    const list = JSON.parse(readFileSync(await json.path(), 'utf8')) as { user: string; event: string }[];
    expect(list.map((e) => e.user)).toEqual(want.map((e) => e.username));
    // An attacker logs in with a user name a spreadsheet would run as a formula (exact bytes on the
    // wire: a quoted IMAP string); the CSV export writes it so that it is text, not a formula.
    const evil = '=HYPERLINK("http://evil.example/","click")';
    expect(await env.imapLogin(`"${evil.replace(/["\\]/g, '\\$&')}"`, 'a-guess')).toMatch(/^t1 NO/m);
    const exported = async () => (await admin.request.get(`${env.url}/admin/audit/export.csv?user=${encodeURIComponent(evil)}`)).text();
    await expect.poll(async () => parseCsv(await exported()).length, { timeout: 10_000 }).toBe(2);
    const text = await exported();
    expect(text).toContain(`,"'=hyperlink(""http://evil.example/"",""click"")",login.fail,imap,`);
    expect(parseCsv(text)[1]?.[1]).toBe(`'${evil.toLowerCase()}`);

    // The export is an admin action of its own, in the log.
    await admin.goto(`${env.url}/admin/audit?event=admin.action&protocol=portal&user=`);
    expect(await admin.locator('#audit tbody tr').first().innerText()).toContain('action=audit-export');
  });

  it('a domain set to require makes a new user of it required, whose mail keeps working until they set it up', { timeout: 180_000 }, async () => {
    await admin.goto(`${env.url}/admin/domains`);
    await admin.getByLabel('Domain', { exact: true }).fill('Fresh.Example');
    await admin.getByLabel('Two-step authentication for its users').selectOption({ label: 'Required' });
    await admin.getByRole('button', { name: 'Save', exact: true }).click();
    expect(await admin.getByRole('status').textContent()).toContain('Saved');
    expect((await cells('#domains tbody tr')).map((r) => r.slice(0, 2))).toContainEqual(['fresh.example', 'Required']);

    const show = await env.cli('user', 'show', NEWBIE.user, '--json');
    expect(JSON.parse(show.stdout)).toMatchObject({ username: NEWBIE.user, adminPolicy: 'required', source: 'domain', twofaState: 'off' });
    expect(await env.imapLogin(NEWBIE.user, NEWBIE.password)).toMatch(/^t1 OK/m);

    const userCtx = await browser.newContext();
    const user = await userCtx.newPage();
    await user.goto(`${env.url}/sign-in`);
    await user.getByLabel('Email address').fill(NEWBIE.user);
    await user.getByLabel('Password').fill(NEWBIE.password);
    await user.getByRole('button', { name: 'Sign in' }).click();
    expect(await user.textContent('main')).toContain('Your administrator requires two-step authentication');
    expect(await user.getByRole('link', { name: 'Setup two-step authentication' }).isVisible()).toBe(true);
    await saveScreenshot(user, 'portal-admin-scale-new-user-of-a-required-domain');

    // Their sign-in made them known: the console lists them among those to chase.
    const listed = (state: string) => async () => {
      await admin.goto(`${env.url}/admin/users?domain=fresh.example&state=${state}`);
      return userNames();
    };
    await expect.poll(listed('required')).toEqual([NEWBIE.user]);

    // They set it up; from then on only an application code opens their mail.
    await walkSetupWizard(user, NEWBIE.password);
    expect(await user.textContent('main')).toContain('Using two-step authentication');
    expect(await user.getByRole('link', { name: 'Disable two-step authentication ...' }).count()).toBe(0); // required by the domain
    await userCtx.close();
    expect(await env.imapLogin(NEWBIE.user, NEWBIE.password)).toMatch(/^t1 NO/m);
    expect(JSON.parse((await env.cli('user', 'show', NEWBIE.user, '--json')).stdout)).toMatchObject({ adminPolicy: 'required', source: 'domain', twofaState: 'on' });
    expect(await listed('on')()).toEqual([NEWBIE.user]);
  });
});
