import type { AdminPolicy } from '../store/types.js';
import { confirmAdminTotp, type AdminConfirmResult } from './admin-accounts.js';
import type { AdminActor } from './admin-console.js';
import { auditExport, auditPage, type AuditPage, type AuditQuery } from './audit-query.js';
import { followDomain, listDomains, setDomainPolicy, type DomainInfo } from './domains.js';
import type { PolicySource } from './effective-policy.js';
import type { PolicyContext } from './policy-context.js';
import type { AuditEntry } from './policy-results.js';
import { rolloutOverview, type RolloutOverview } from './rollout.js';
import { findUsers, type UserPage, type UserQuery } from './user-directory.js';

/**
 * The admin console's view of an organisation (issue 17), for the console and the CLI: domains
 * and their policies, the user list (search, filters, pages), the rollout at a glance, the audit
 * log's pages and exports, and the proof of a new admin authenticator. The rules live in the files
 * it names; `twoStepEnded` hears of every user whose two-step authentication a change turned off
 * (the policy's hook: KickingPolicy ends their Dovecot sessions).
 */
export class ConsolePolicy {
  readonly #ctx: PolicyContext;
  readonly #twoStepEnded: (users: readonly string[]) => void;

  constructor(ctx: PolicyContext, twoStepEnded: (users: readonly string[]) => void) {
    this.#ctx = ctx;
    this.#twoStepEnded = twoStepEnded;
  }

  listDomains(): Promise<DomainInfo[]> {
    return listDomains(this.#ctx);
  }

  /** The domain's default policy (null: none any more); returns how many accounts followed it. */
  async setDomainPolicy(domain: string, policy: AdminPolicy | null, actor?: AdminActor): Promise<{ followers: number; wiped: number }> {
    const r = await setDomainPolicy(this.#ctx, domain, policy, actor);
    if (r.wiped.length > 0) this.#twoStepEnded(r.wiped);
    return { followers: r.followers, wiped: r.wiped.length };
  }

  /** The user's own setting goes; their domain's policy (or the default) applies. */
  async followDomain(user: string, actor?: AdminActor): Promise<{ policy: AdminPolicy; source: PolicySource }> {
    const r = await followDomain(this.#ctx, user, actor);
    if (r.wiped) this.#twoStepEnded([this.#ctx.adminUsername(user)]);
    return { policy: r.policy, source: r.source };
  }

  findUsers(q: UserQuery): Promise<UserPage> {
    return findUsers(this.#ctx, q);
  }

  overview(): Promise<RolloutOverview> {
    return rolloutOverview(this.#ctx);
  }

  auditPage(q: AuditQuery, pos: { after?: string; before?: string } = {}): Promise<AuditPage> {
    return auditPage(this.#ctx, q, pos);
  }

  /** Every audit event name (the event filter's suggestions). */
  eventNames(): Promise<string[]> {
    return this.#ctx.wrapStore(() => this.#ctx.store.audit.eventNames());
  }

  auditExport(q: AuditQuery, max?: number): AsyncGenerator<AuditEntry> {
    return auditExport(this.#ctx, q, max);
  }

  confirmAdminTotp(name: string, code: string, clientIp: string): Promise<AdminConfirmResult> {
    return confirmAdminTotp(this.#ctx, name, code, clientIp);
  }
}
