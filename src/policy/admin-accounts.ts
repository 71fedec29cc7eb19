import { TwostepError } from '../core/errors.js';
import { limits } from '../core/limits.js';
import type { Secret } from '../core/secret.js';
import { decryptSecret, encryptSecret } from '../crypto/secret-box.js';
import { generateTotpKey, matchTotp, totpUri } from '../crypto/totp.js';
import { iso, type PolicyContext } from './policy-context.js';
import type { TotpEnrollment } from './policy-results.js';
import { attemptSource, ipBound, knownSource, noteSource, subjectBound } from './sources.js';
import { normalizeUsername, usernameProblem } from './username.js';

/** Admin passwords are chosen by a person and checked at the console: at least this long. */
export const ADMIN_PASSWORD_MIN_CHARS = 12;

const adminTotpContext = (id: number) => `admin-totp:${id}`;

export interface AdminInfo {
  name: string;
  createdAt: string;
  /** A console sign-in proved a code of the current authenticator key. */
  confirmed: boolean;
}

/**
 * `confirmed` false: the key is new (admin add, reset-totp) and this was its first use; the
 * console asks for one more code (confirmAdminTotp) before anything else works.
 */
export type AdminSignInResult =
  | { ok: true; name: string; confirmed: boolean }
  | { ok: false; reason: 'invalid-credentials' | 'throttled'; retryAfterMs?: number };

export type AdminConfirmResult = { ok: true } | { ok: false; reason: 'invalid-code' | 'throttled'; retryAfterMs?: number };

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

/**
 * A new admin with a password (argon2id) and a fresh TOTP key, returned once for the authenticator
 * app. The key is unproven until the first console sign-in confirms it (confirmAdminTotp).
 */
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

/** A new TOTP key for an admin who lost the phone; the old one stops working at once, the new one is unproven until a sign-in confirms it. */
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
  return admins.map((a) => ({ name: a.name, createdAt: iso(a.createdAt), confirmed: a.totpConfirmedAt !== null }));
}

/**
 * Admin console sign-in: password and a current TOTP code together (both always checked, so a
 * reply does not tell which was wrong). Bounded like a mail password: per source address, and per
 * admin name for unknown sources together or for each source the admin signed in from before
 * (a network, this browser), so nobody locks an admin out from elsewhere.
 */
/** An admin's sign-in form: name, password, the authenticator's code, and where it came from. */
export interface AdminSignInRequest {
  name: string;
  password: Secret;
  code: string;
  clientIp: string;
  browserToken?: string;
}

export async function adminSignIn(ctx: PolicyContext, req: AdminSignInRequest): Promise<AdminSignInResult> {
  const now = ctx.clock();
  const name = usernameProblem(req.name) === null ? normalizeUsername(req.name) : null;
  const subject = `admin:${name ?? '?'}`;
  const ipKey = ipBound(ctx, req.clientIp);
  const source = attemptSource(req.clientIp, req.browserToken);
  const ipRetry = await ctx.guard.verdict(ipKey, now);
  const known = name === null ? null : await knownSource(ctx, subject, source, now);
  const pw = req.password.reveal();
  const r =
    ipRetry > 0
      ? ({ ok: false, key: ipKey.key, retryAfterMs: ipRetry } as const)
      : await ctx.guard.reserve(ctx.guard.dedupeKey(subject, pw, req.code), [subjectBound(ctx, subject, known)], now);
  if (!r.ok) {
    if (ctx.firstRefusal(r.key, now + r.retryAfterMs)) {
      ctx.audit({ at: now, username: null, event: 'admin.sign-in.throttled', protocol: 'portal', ip: req.clientIp, detail: { admin: name } });
    }
    return { ok: false, reason: 'throttled', retryAfterMs: r.retryAfterMs };
  }
  let ok = false;
  let pwOk = false;
  let a: Awaited<ReturnType<typeof ctx.store.admins.findByName>>;
  try {
    a = name === null ? undefined : await ctx.wrapStore(() => ctx.store.admins.findByName(name));
    pwOk = pw.length > 0 && pw.length <= limits.secretChars && (await ctx.hasher.verify(a ? a.passwordHash : await ctx.dummyHash(), pw));
    if (a && pwOk) {
      const step = matchTotp(decryptSecret(ctx.encKey, a.totpSecretEnc, adminTotpContext(a.id)), req.code, now);
      // The step must be recorded (replay protection) before the sign-in counts: no write, no sign-in.
      ok = step !== null && (await ctx.wrapStore(() => ctx.store.admins.advanceTotpStep(a!.id, step, now)));
    }
  } finally {
    await r.reservation.settle(!ok);
  }
  if (!ok || !a) {
    await ctx.guard.fail([ipKey.key], now);
    ctx.audit({ at: now, username: null, event: 'admin.sign-in.fail', protocol: 'portal', ip: req.clientIp, detail: { admin: name, passwordOk: pwOk } });
    const ms = ctx.config.auth.failure_delay_ms;
    if (ms > 0) await ctx.sleep(ms);
    return { ok: false, reason: 'invalid-credentials' };
  }
  noteSource(ctx, subject, source, now);
  const confirmed = a.totpConfirmedAt !== null;
  ctx.audit({ at: now, username: null, event: 'admin.sign-in', protocol: 'portal', ip: req.clientIp, detail: { admin: a.name, confirmed } });
  return { ok: true, name: a.name, confirmed };
}

/**
 * The second code of a new authenticator key (the sign-in took the first): a code of a later
 * 30-second step than any accepted before, so the app demonstrably keeps producing the key's
 * codes (as cloud consoles ask two consecutive codes of a new MFA device). Only then is the key
 * proven and the admin's console session worth anything. Bounded per admin like an enrolment.
 */
export async function confirmAdminTotp(ctx: PolicyContext, name: string, code: string, clientIp: string): Promise<AdminConfirmResult> {
  const now = ctx.clock();
  const a = await requireAdmin(ctx, name);
  if (a.totpConfirmedAt !== null) return { ok: true };
  const bound = { key: `admin-confirm:${a.name}`, limit: ctx.config.auth.user_failures, windowMs: ctx.config.auth.failure_window_seconds * 1000 };
  const wait = await ctx.guard.verdict(bound, now);
  if (wait > 0) return { ok: false, reason: 'throttled', retryAfterMs: wait };
  const step = code.length <= 16 ? matchTotp(decryptSecret(ctx.encKey, a.totpSecretEnc, adminTotpContext(a.id)), code, now) : null;
  if (step === null || !(await ctx.wrapStore(() => ctx.store.admins.confirmTotp(a.id, step, now)))) {
    await ctx.guard.fail([bound.key], now);
    ctx.audit({ at: now, username: null, event: 'admin.totp-confirm.fail', protocol: 'portal', ip: clientIp, detail: { admin: a.name } });
    return { ok: false, reason: 'invalid-code' };
  }
  ctx.audit({ at: now, username: null, event: 'admin.totp-confirm', protocol: 'portal', ip: clientIp, detail: { admin: a.name } });
  return { ok: true };
}

async function requireAdmin(ctx: PolicyContext, name: string) {
  const n = adminName(name);
  const a = await ctx.wrapStore(() => ctx.store.admins.findByName(n));
  if (!a) throw new TwostepError('NOT_FOUND', `no such admin: ${n}`);
  return a;
}

/** The functions above bound to one policy's context: Policy.admins. */
export class AdminAccounts {
  readonly #ctx: PolicyContext;
  constructor(ctx: PolicyContext) {
    this.#ctx = ctx;
  }
  add(name: string, password: Secret): Promise<TotpEnrollment> {
    return adminAdd(this.#ctx, name, password);
  }
  setPassword(name: string, password: Secret): Promise<void> {
    return adminSetPassword(this.#ctx, name, password);
  }
  resetTotp(name: string): Promise<TotpEnrollment> {
    return adminResetTotp(this.#ctx, name);
  }
  remove(name: string): Promise<void> {
    return adminRemove(this.#ctx, name);
  }
  list(): Promise<AdminInfo[]> {
    return adminList(this.#ctx);
  }
  signIn(req: AdminSignInRequest): Promise<AdminSignInResult> {
    return adminSignIn(this.#ctx, req);
  }
}
