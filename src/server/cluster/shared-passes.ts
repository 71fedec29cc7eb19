import { limits } from '../../core/limits.js';
import type { PasswordPasses } from '../../verify/password-check-passes.js';
import type { IpcChannel } from './ipc-channel.js';
import type { SupervisorQuestions } from './worker-messages.js';

/**
 * The portal's one-time passes with workers. The portal checks a main password by an IMAP login
 * to Dovecot whose Lua passdb then asks the verify service; that question may reach any worker,
 * not the one that issued the pass. So the supervisor keeps the passes (one PasswordCheckPasses)
 * and every worker issues and redeems through it. A pass is issued before the portal's IMAP
 * connection opens (the answer arrives first), so it is always there when redeemed.
 *
 * A redeem that gets no answer counts as no pass: the login is then decided as any other (a
 * two-step account's main password is refused), never let through.
 */
export function passesThroughSupervisor(channel: Pick<IpcChannel<object, object, SupervisorQuestions, never>, 'ask'>): PasswordPasses {
  return {
    issue: (user) => channel.ask('pass-issue', { user }, limits.workerRequestMs),
    redeem: (user, pass) => channel.ask('pass-redeem', { user, pass }, limits.workerRequestMs).catch(() => false),
  };
}

/** The supervisor's side: answers the workers' questions from its one PasswordCheckPasses. */
export function answerPasses(channel: Pick<IpcChannel<object, object, never, SupervisorQuestions>, 'answer'>, passes: PasswordPasses): void {
  channel.answer('pass-issue', ({ user }) => passes.issue(user));
  channel.answer('pass-redeem', ({ user, pass }) => passes.redeem(user, pass));
}
