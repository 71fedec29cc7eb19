import { TwostepError } from '../core/errors.js';
import { limits } from '../core/limits.js';
import type { Secret } from '../core/secret.js';
import { decryptSecret, encryptSecret } from '../crypto/secret-box.js';
import { generateTotpKey, matchTotp, totpUri } from '../crypto/totp.js';
import { iso, type PolicyContext } from './policy-context.js';
import type { TotpEnrollment } from './policy-results.js';
import { normalizeUsername, usernameProblem } from './username.js';

/** Admin passwords are chosen by a person and checked at the console: at least this long. */
export const ADMIN_PASSWORD_MIN_CHARS = 12;

const adminTotpContext = (id: number) => `admin-totp:${id}`;

export interface AdminInfo {
  name: string;
  createdAt: string;
}

export type AdminSignInResult =
  | { ok: true; name: string }
  | { ok: false; reason: 'invalid-credentials' | 'throttled'; retryAfterMs?: number };

function adminName(name: string): string {
  const problem = usernameProblem(name);
  if (problem !== null) throw new TwostepError('INVALID_INPUT', `invalid admin name (${problem})`);
  return normalizeUsername(name);
}

function checkPassword(password: Secret): string {
  const p = password.reveal();
  if ([...p].length < ADMIN_PASSWORD_MIN_CHARS || p.length > limits.secretChars) {
    throw new TwostepError('INVALID_INPUT', `admin password must be ${ADMIN_PASSWORD_MIN_CHARS}-${limits.secretChars} characters`);
  }
  return p;
}

/** A new admin with a password (argon2id) and a fresh TOTP key, returned once for the authenticator app. */
export async function adminAdd(ctx: PolicyContext, name: string, password: Secret): Promise<TotpEnrollment> {
  const n = adminName(name);
  const hash = await ctx.hasher.hash(checkPassword(password));
  const key = generateTotpKey();
  const now = ctx.clock();
  await ctx.tx(async (tx) => {
    if (await tx.admins.findByName(n)) throw new TwostepError('NAME_TAKEN', `admin ${n} exists already`);
    const id = await tx.admins.insert(n, hash, now);
    await tx.admins.setTotp(id, encryptSecret(ctx.encKey, key, adminTotpContext(id)), now);
  });
  ctx.audit({ at: now, username: null, event: 'admin.add', detail: { admin: n } });
  return { key, uri: totpUri(`${ctx.config.totp.issuer} admin`, n, key) };
}

export async function adminSetPassword(ctx: PolicyContext, name: string, password: Secret): Promise<void> {
  const a = await requireAdmin(ctx, name);
  const hash = await ctx.hasher.hash(checkPassword(password));
  const now = ctx.clock();
  await ctx.tx(async (tx) => {
    await tx.admins.setPassword(a.id, hash, now);
    // A new password (perhaps because the old one leaked) also ends the console sessions it opened.
    await tx.webSessions.deleteForSubject('admin', a.name);
  });
  ctx.audit({ at: now, username: null, event: 'admin.password', detail: { admin: a.name } });
}

/** A new TOTP key for an admin who lost the phone; the old one stops working at once. */
export async function adminResetTotp(ctx: PolicyContext, name: string): Promise<TotpEnrollment> {
  const a = await requireAdmin(ctx, name);
  const key = generateTotpKey();
  const now = ctx.clock();
  await ctx.wrapStore(() => ctx.store.admins.setTotp(a.id, encryptSecret(ctx.encKey, key, adminTotpContext(a.id)), now));
  await ctx.wrapStore(() => ctx.store.webSessions.deleteForSubject('admin', a.name));
  ctx.audit({ at: now, username: null, event: 'admin.totp-reset', detail: { admin: a.name } });
  return { key, uri: totpUri(`${ctx.config.totp.issuer} admin`, a.name, key) };
}

export async function adminRemove(ctx: PolicyContext, name: string): Promise<void> {
  const a = await requireAdmin(ctx, name);
  await ctx.tx(async (tx) => {
    await tx.admins.delete(a.id);
    await tx.webSessions.deleteForSubject('admin', a.name);
  });
  ctx.audit({ at: ctx.clock(), username: null, event: 'admin.remove', detail: { admin: a.name } });
}

export async function adminList(ctx: PolicyContext): Promise<AdminInfo[]> {
  const admins = await ctx.wrapStore(() => ctx.store.admins.list());
  return admins.map((a) => ({ name: a.name, createdAt: iso(a.createdAt) }));
}

/**
 * Admin console sign-in: password and a current TOTP code together (both always checked, so a
 * reply does not tell which was wrong). Throttled per IP and per admin name like mail logins.
 */
export async function adminSignIn(
  ctx: PolicyContext,
  req: { name: string; password: Secret; code: string; clientIp: string },
): Promise<AdminSignInResult> {
  const now = ctx.clock();
  const name = usernameProblem(req.name) === null ? normalizeUsername(req.name) : null;
  const key = name === null ? null : `admin:${name}`;
  const ipV = ctx.ipThrottle.check(req.clientIp, now);
  const nameV = key === null ? { retryAfterMs: 0, firstRefusal: false } : ctx.userThrottle.check(key, now);
  const retryAfterMs = Math.max(ipV.retryAfterMs, nameV.retryAfterMs);
  if (retryAfterMs > 0) {
    if (ipV.firstRefusal || nameV.firstRefusal) {
      ctx.audit({ at: now, username: null, event: 'admin.sign-in.throttled', protocol: 'portal', ip: req.clientIp, detail: { admin: name } });
    }
    return { ok: false, reason: 'throttled', retryAfterMs };
  }
  const a = name === null ? undefined : await ctx.wrapStore(() => ctx.store.admins.findByName(name));
  const pw = req.password.reveal();
  // While the hash is checked, this attempt counts as a failure: parallel guesses stay bounded.
  const releaseIp = ctx.ipThrottle.hold(req.clientIp);
  const releaseName = key === null ? () => {} : ctx.userThrottle.hold(key);
  let pwOk: boolean;
  try {
    pwOk = pw.length > 0 && pw.length <= limits.secretChars && (await ctx.hasher.verify(a ? a.passwordHash : await ctx.dummyHash(), pw));
  } finally {
    releaseIp();
    releaseName();
  }
  let ok = false;
  if (a && pwOk) {
    const step = matchTotp(decryptSecret(ctx.encKey, a.totpSecretEnc, adminTotpContext(a.id)), req.code, now);
    // The step must be recorded (replay protection) before the sign-in counts: no write, no sign-in.
    ok = step !== null && (await ctx.wrapStore(() => ctx.store.admins.advanceTotpStep(a.id, step, now)));
  }
  if (!ok || !a) {
    ctx.ipThrottle.record(req.clientIp, now);
    if (key !== null) ctx.userThrottle.record(key, now);
    ctx.audit({ at: now, username: null, event: 'admin.sign-in.fail', protocol: 'portal', ip: req.clientIp, detail: { admin: name, passwordOk: pwOk } });
    const ms = ctx.config.auth.failure_delay_ms;
    if (ms > 0) await ctx.sleep(ms);
    return { ok: false, reason: 'invalid-credentials' };
  }
  ctx.audit({ at: now, username: null, event: 'admin.sign-in', protocol: 'portal', ip: req.clientIp, detail: { admin: a.name } });
  return { ok: true, name: a.name };
}

async function requireAdmin(ctx: PolicyContext, name: string) {
  const n = adminName(name);
  const a = await ctx.wrapStore(() => ctx.store.admins.findByName(n));
  if (!a) throw new TwostepError('NOT_FOUND', `no such admin: ${n}`);
  return a;
}
