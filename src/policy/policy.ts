import type { Config } from '../config/schema.js';
import type { AdminPolicy, WebSessionKind, WebSessionStage } from '../store/types.js';
import { AdminAccounts } from './admin-accounts.js';
import { auditSearch, consoleSetPolicy, recordAdminAction, resetUser, type AdminActor, type AuditFilter } from './admin-console.js';
import { ConsolePolicy } from './console-policy.js';
import type { PasswordChecker } from './password-checker.js';
import { accountOverview, totpPendingKey, userDisable, type AccountOverview } from './portal-account.js';
import {
  isTrustedComputer,
  portalSecondFactor,
  portalSignIn,
  revokeThisDevice,
  trustedDeviceId,
  type PortalSignInRequest,
  type PortalSignInResult,
  type SecondFactorResult,
} from './portal-sign-in.js';
import { createWebSession, endAllWebSessions, endWebSession, markWebSessionReauth, readWebSession, rotateWebSession, sweepWebSessions, type WebSessionView } from './web-sessions.js';
import { limits } from '../core/limits.js';
import { disable, listAudit, pruneAudit, pruneGuard, setAdminPolicy, showUser } from './admin.js';
import { appCodeAdd, appCodeList, appCodeRevoke } from './app-codes.js';
import { authenticate } from './login.js';
import { MailNoticeQueue } from './notices.js';
import { oneTimeCodesRegenerate, oneTimeCodesShow } from './one-time-codes.js';
import { onRevocation, recordSessionRevoked, revokedCodeIds } from './session-revocation.js';
import { PolicyContext, runWithAuditOrigin, type PolicyOptions } from './policy-context.js';
import { normalizeUsername } from './username.js';
import type { AppCodeInfo, AuditEntry, NewAppCodeOptions, OneTimeCodesView, TotpEnrollment, UserSummary } from './policy-results.js';
import { totpConfirm, totpEnroll, verifySecondFactor } from './totp-enrolment.js';
import { isTrustedDevice, revokeTrustedDevices, trustDevice } from './trusted-devices.js';
import type { AuthDecision, AuthRequest, Authenticator, Protocol, RevocationCheck, RevokedSession } from './types.js';

export type { PolicyOptions };

/**
 * Every two-step rule, behind one object: who must present an application code, which code is
 * valid, TOTP enrolment, one-time codes, trusted devices, throttling and the audit trail.
 * State is re-read from the store on every call, so a change made by another process (the CLI)
 * applies at once, and the guessing bounds are counted in the store (shared by every process and
 * node). Each group of rules lives in its own file; this class is the public surface.
 */
export class Policy implements Authenticator, RevocationCheck {
  readonly #ctx: PolicyContext;
  #notices: MailNoticeQueue | undefined;
  /** The admin console's organisation view: domains, user pages, the rollout, audit pages and exports. */
  readonly console: ConsolePolicy;
  /** The admin console's own accounts: add, password, authenticator key, remove, list, sign-in. */
  readonly admins: AdminAccounts;

  constructor(opts: PolicyOptions) {
    this.#ctx = new PolicyContext(opts);
    this.console = new ConsolePolicy(this.#ctx, (users) => this.twoStepEnded(users));
    this.admins = new AdminAccounts(this.#ctx);
  }

  /** Called with the users whose two-step authentication a console change (a domain disallowed) turned off. */
  protected twoStepEnded(_users: readonly string[]): void {}

  // login (protocol front ends)

  /**
   * Malformed → TLS → throttle → authzid → account: no 2FA → passthrough; 2FA on → only an
   * active application code, verified with at most one argon2 call.
   */
  authenticate(req: AuthRequest): Promise<AuthDecision> {
    return authenticate(this.#ctx, req);
  }

  /**
   * Forget this user's verified application codes held in memory (the login cache). Every
   * policy method that revokes a code or turns two-step off already does; call it from any new
   * one that ends a code's validity. (A miss is harmless: a cached login still checks the code
   * row in the database.)
   */
  invalidateUser(user: string): void {
    this.#ctx.verified.invalidateUser(normalizeUsername(user));
  }

  /** A reloaded config (SIGHUP): every rule reads it from the next call on. */
  reconfigure(config: Config): void {
    this.#ctx.reconfigure(config);
  }

  /** The queue of mail notices, for `serve`'s sender (src/notify). */
  get notices(): MailNoticeQueue {
    return (this.#notices ??= new MailNoticeQueue(this.#ctx));
  }

  /** Writes what this process queued (audit, Last Used, last seen) now; the store's close does it too. */
  async flush(): Promise<void> {
    await this.#ctx.store.flush();
  }

  // live sessions (the revocation watcher of `serve`)

  /** Which of these code ids no longer sign in (revoked, or two-step off); one indexed query. */
  revokedCodeIds(codeIds: readonly number[]): Promise<number[]> {
    return revokedCodeIds(this.#ctx, codeIds);
  }

  /** Audit event 'session.revoked'. */
  recordSessionRevoked(s: RevokedSession): void {
    recordSessionRevoked(this.#ctx, s);
  }

  /** Calls `listener` at each revocation the store reports at once (PostgreSQL), after dropping the codes from the login cache. */
  onRevocation(listener: () => void): () => void {
    return onRevocation(this.#ctx, listener);
  }

  // admin

  /** Creates the account if needed; 'disallowed' also turns two-step off and wipes its secrets. */
  setAdminPolicy(user: string, policy: AdminPolicy): Promise<void> {
    return setAdminPolicy(this.#ctx, user, policy);
  }

  showUser(user: string): Promise<UserSummary> {
    return showUser(this.#ctx, user);
  }

  /** Two-step off: TOTP key wiped, app codes revoked, one-time codes deleted, trusted devices revoked. */
  disable(user: string): Promise<void> {
    return disable(this.#ctx, user);
  }

  /** Newest first; default limit 100, at most 10 000. */
  audit(opts: { user?: string; limit?: number } = {}): Promise<AuditEntry[]> {
    return listAudit(this.#ctx, opts);
  }

  /** Deletes audit events past [store] audit_retention_days; returns how many. */
  pruneAudit(batch: number = limits.auditPruneBatch): Promise<number> {
    return pruneAudit(this.#ctx, batch);
  }

  /** Deletes failures and sources the guessing bounds no longer count; returns how many rows. */
  pruneGuard(batch: number = limits.auditPruneBatch): Promise<number> {
    return pruneGuard(this.#ctx, batch);
  }

  // TOTP

  /**
   * Runs `fn` (and all it awaits) on behalf of a request from `origin`: audit events written
   * meanwhile that name no protocol or IP get these (the portal wraps each request in it).
   */
  withAuditOrigin<T>(origin: { protocol: Protocol; ip: string }, fn: () => T): T {
    return runWithAuditOrigin(origin, fn);
  }

  totpEnroll(user: string): Promise<TotpEnrollment> {
    return totpEnroll(this.#ctx, user);
  }

  totpConfirm(user: string, code: string): Promise<{ oneTimeCodes: string[] }> {
    return totpConfirm(this.#ctx, user, code);
  }

  verifySecondFactor(user: string, code: string): Promise<boolean> {
    return verifySecondFactor(this.#ctx, user, code);
  }

  // application codes

  appCodeAdd(user: string, name: string, opts?: NewAppCodeOptions): ReturnType<typeof appCodeAdd> {
    return appCodeAdd(this.#ctx, user, name, opts);
  }

  appCodeList(user: string): Promise<AppCodeInfo[]> {
    return appCodeList(this.#ctx, user);
  }

  appCodeRevoke(user: string, name: string): Promise<void> {
    return appCodeRevoke(this.#ctx, user, name);
  }

  // one-time codes

  oneTimeCodesShow(user: string): Promise<OneTimeCodesView> {
    return oneTimeCodesShow(this.#ctx, user);
  }

  oneTimeCodesRegenerate(user: string): Promise<string[]> {
    return oneTimeCodesRegenerate(this.#ctx, user);
  }

  // trusted devices (web portal)

  /** Returns the device token to keep in a cookie (only its SHA-256 is stored). `sessionToken`: the portal session of the browser being trusted (revoking the device ends it). */
  trustDevice(user: string, label: string, sessionToken?: string): Promise<string> {
    return trustDevice(this.#ctx, user, label, sessionToken);
  }

  isTrustedDevice(user: string, token: string): Promise<boolean> {
    return isTrustedDevice(this.#ctx, user, token);
  }

  /** All, or all but the device holding exceptToken ("revoke all other devices"). */
  revokeTrustedDevices(user: string, opts: { exceptToken?: string; sessionToken?: string } = {}): Promise<number> {
    return revokeTrustedDevices(this.#ctx, user, opts);
  }

  // web portal (src/portal calls these; the rules live in the files they name)

  /** Sign-in step one: the user's own password, judged by the mail server through `checker`. */
  portalSignIn(req: PortalSignInRequest, checker: PasswordChecker): Promise<PortalSignInResult> {
    return portalSignIn(this.#ctx, checker, req);
  }

  /** Sign-in step two: a TOTP code or a one-time code. */
  portalSecondFactor(user: string, code: string, clientIp: string, browserToken?: string, browserLabel?: string): Promise<SecondFactorResult> {
    return portalSecondFactor(this.#ctx, user, code, clientIp, browserToken, browserLabel);
  }

  /** A trusted device of the user, trusted within [portal] trusted_device_days. */
  isTrustedComputer(user: string, token: string): Promise<boolean> {
    return isTrustedComputer(this.#ctx, user, token);
  }

  revokeThisDevice(user: string, token: string, sessionToken?: string): Promise<boolean> {
    return revokeThisDevice(this.#ctx, user, token, sessionToken);
  }

  accountOverview(user: string): Promise<AccountOverview> {
    return accountOverview(this.#ctx, user);
  }

  /** Turn two-step off at the user's request (refused while the admin requires it). */
  userDisable(user: string): Promise<void> {
    return userDisable(this.#ctx, user);
  }

  totpPendingKey(user: string): Promise<TotpEnrollment | null> {
    return totpPendingKey(this.#ctx, user);
  }

  /** `deviceToken`: the trusted device whose trust let this sign-in skip the code (revoking it ends the session). */
  async createWebSession(kind: WebSessionKind, subject: string, stage: WebSessionStage, deviceToken?: string): Promise<{ token: string; session: WebSessionView }> {
    const deviceId = deviceToken === undefined ? undefined : await trustedDeviceId(this.#ctx, subject, deviceToken);
    return createWebSession(this.#ctx, kind, subject, stage, deviceId);
  }

  readWebSession(token: string, kind: WebSessionKind): Promise<WebSessionView | null> {
    return readWebSession(this.#ctx, token, kind);
  }

  rotateWebSession(token: string, kind: WebSessionKind, stage: WebSessionStage): Promise<{ token: string; session: WebSessionView } | null> {
    return rotateWebSession(this.#ctx, token, kind, stage);
  }

  markWebSessionReauth(token: string): Promise<void> {
    return markWebSessionReauth(this.#ctx, token);
  }

  endWebSession(token: string): Promise<void> {
    return endWebSession(this.#ctx, token);
  }

  endAllWebSessions(kind: WebSessionKind, subject: string, ip: string | null): Promise<number> {
    return endAllWebSessions(this.#ctx, kind, subject, ip);
  }

  sweepWebSessions(): Promise<number> {
    return sweepWebSessions(this.#ctx);
  }

  // admin accounts and console

  consoleSetPolicy(actor: AdminActor, user: string, policy: AdminPolicy): Promise<void> {
    return consoleSetPolicy(this.#ctx, actor, user, policy);
  }

  resetUser(actor: AdminActor, user: string, opts: { revokeAppCodes: boolean }): Promise<void> {
    return resetUser(this.#ctx, actor, user, opts);
  }

  recordAdminAction(actor: AdminActor, action: string, user: string | null, detail?: Record<string, unknown>): void {
    recordAdminAction(this.#ctx, actor, action, user, detail);
  }

  auditSearch(filter: AuditFilter): Promise<AuditEntry[]> {
    return auditSearch(this.#ctx, filter);
  }
}

export function createPolicy(opts: PolicyOptions): Policy {
  return new Policy(opts);
}
