import type { AdminPolicy } from '../store/types.js';
import { Policy, normalizeUsername, type AdminActor, type PolicyOptions } from '../policy/index.js';
import type { SessionKicker } from './session-kicker.js';

/**
 * The policy, plus: every change that ends application codes (a code revoked, two-step turned
 * off by the user, the admin, the console or the CLI) also ends the user's Dovecot sessions
 * through the kicker, in the process that made the change. The proxy's own sessions end through
 * the revocation watcher of `serve`; Dovecot's sessions (logged in through the Lua passdb) are
 * unknown to twostep, so Dovecot is asked to end them all.
 */
export class KickingPolicy extends Policy {
  readonly #kicker: SessionKicker;

  constructor(opts: PolicyOptions, kicker: SessionKicker) {
    super(opts);
    this.#kicker = kicker;
  }

  #kick(user: string): void {
    this.#kicker.kick(normalizeUsername(user));
  }

  override async appCodeRevoke(user: string, name: string): Promise<void> {
    await super.appCodeRevoke(user, name);
    this.#kick(user);
  }

  override async disable(user: string): Promise<void> {
    await super.disable(user);
    this.#kick(user);
  }

  override async userDisable(user: string): Promise<void> {
    await super.userDisable(user);
    this.#kick(user);
  }

  override async setAdminPolicy(user: string, policy: AdminPolicy): Promise<void> {
    await super.setAdminPolicy(user, policy);
    if (policy === 'disallowed') this.#kick(user);
  }

  override async consoleSetPolicy(actor: AdminActor, user: string, policy: AdminPolicy): Promise<void> {
    await super.consoleSetPolicy(actor, user, policy);
    if (policy === 'disallowed') this.#kick(user);
  }

  /** A domain disallowed (or a user following it): every user whose two-step went off. */
  protected override twoStepEnded(users: readonly string[]): void {
    for (const u of users) this.#kick(u);
  }

  override async resetUser(actor: AdminActor, user: string, opts: { revokeAppCodes: boolean }): Promise<void> {
    await super.resetUser(actor, user, opts);
    this.#kick(user);
  }
}
