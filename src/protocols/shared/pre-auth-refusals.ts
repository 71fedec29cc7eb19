import { limits } from '../../core/limits.js';
import type { FailReason } from '../../policy/types.js';

/** Why a session hangs up on a client that keeps being refused. */
export type TooManyRefusals = 'too-many-bad-commands' | 'too-many-auth-failures';

export interface PreAuthRefusalsOptions {
  /** Bad commands before the hang-up (limits.preAuthMaxBadCommands, limits.pop3PreAuthMaxBadCommands). */
  maxBadCommands: number;
  /** Says goodbye the protocol's way and closes. */
  hangUp(why: TooManyRefusals): void;
}

/**
 * Counts what one session refused before login, the same rule for every protocol: a refused
 * command, or a login refused as malformed, is a bad command; any other refused login is an
 * authentication failure (limits.preAuthMaxAuthFailures). Too many of either ends the session.
 */
export class PreAuthRefusals {
  readonly #o: PreAuthRefusalsOptions;
  #badCommands = 0;
  #authFailures = 0;

  constructor(o: PreAuthRefusalsOptions) {
    this.#o = o;
  }

  /** A command was refused (already answered). */
  badCommand(): void {
    if (++this.#badCommands >= this.#o.maxBadCommands) this.#o.hangUp('too-many-bad-commands');
  }

  /** A login was refused (already answered). */
  loginFailed(reason: FailReason): void {
    if (reason === 'malformed') return this.badCommand();
    if (++this.#authFailures >= limits.preAuthMaxAuthFailures) this.#o.hangUp('too-many-auth-failures');
  }
}
