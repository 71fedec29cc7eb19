import { limits } from '../core/limits.js';
import type { Logger } from '../core/logger.js';
import { metrics } from '../core/metrics.js';
import { exhaustive, type AuthRequest, type Authenticator, type Protocol } from '../policy/types.js';
import { decideWithin } from '../policy/decide-within.js';
import { clientNameFromDovecotId, dovecotIdFields } from './client-name-from-dovecot-id.js';
import type { PasswordCheckPasses } from './password-check-passes.js';
import type { VerifyAnswer, VerifyRequest } from './verify-protocol.js';

/** Dovecot's service names that are one of twostep's protocols; any other is 'other'. */
const SERVICES: Record<string, Protocol> = {
  imap: 'imap',
  pop3: 'pop3',
  sieve: 'sieve',
  submission: 'submission',
  smtp: 'smtp',
};

let requests = 0;

/**
 * One answer for Dovecot's Lua passdb, from the same Policy.authenticate the proxy asks:
 * - accept ('ok'): an active application code of a two-step account (Last Used, audit);
 * - refuse ('fail'): a two-step account with anything else; the main password is never checked;
 * - not mine ('next'): no two-step authentication; Dovecot's own passdb judges the password,
 *   twostep never hears its verdict (the passthrough is settled 'delegated');
 * - 'tempfail': throttled, or twostep could not decide (store fault, deadline): Dovecot answers
 *   "temporary failure" and nobody gets in on this attempt.
 * A live one-time pass of the portal's password check (`passes`) is 'next' without a decision:
 * the portal's sign-in has throttled and audits that check itself.
 */
export async function answerVerify(authenticator: Authenticator, r: VerifyRequest, log: Logger, passes?: PasswordCheckPasses): Promise<VerifyAnswer> {
  // The portal checking a main password through Dovecot (see PasswordCheckPasses): Dovecot judges it.
  const pass = passes && r.clientId ? dovecotIdFields(r.clientId)?.get('x-twostep-check') : undefined;
  if (pass !== undefined && passes?.redeem(r.user, pass)) {
    log.debug({ event: 'verify', service: r.service.slice(0, 32), user: r.user.slice(0, 255), answer: 'next', why: 'portal-password-check' }, 'verify');
    return { kind: 'next' };
  }
  const req: AuthRequest = {
    protocol: SERVICES[r.service] ?? 'other',
    mechanism: r.mech.slice(0, 32) || 'PLAIN',
    user: r.user,
    secret: r.password,
    clientIp: r.rip || 'unknown',
    clientPort: r.rport,
    tls: r.secured !== '',
    cid: r.session ? `dovecot-${r.session.slice(0, 32)}` : `dovecot-${process.pid}-${++requests}`,
    origin: 'passdb',
  };
  const clientName = clientNameFromDovecotId(r.clientId);
  if (clientName) req.clientName = clientName;
  const started = performance.now();
  const decision = await decideWithin(authenticator, req, log, limits.verifyDecisionMs);
  let answer: VerifyAnswer;
  if (decision.ok) {
    if (decision.via === 'passthrough') {
      await decision.passthrough.settle('delegated');
      answer = { kind: 'next' };
    } else {
      answer = { kind: 'ok' };
    }
  } else {
    switch (decision.reason) {
      case 'invalid-credentials':
      case 'app-code-required':
      case 'malformed':
      case 'tls-required':
        answer = { kind: 'fail', reason: decision.reason };
        break;
      case 'throttled':
      case 'backend-unavailable':
        answer = { kind: 'tempfail', reason: decision.reason };
        break;
      default:
        return exhaustive(decision.reason);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  if (decision.ok) metrics.login('passdb', req.protocol, decision.via === 'passthrough' ? 'delegated' : 'ok', decision.via, seconds);
  else metrics.login('passdb', req.protocol, 'fail', decision.reason, seconds);
  const level = answer.kind === 'next' ? 'debug' : 'info';
  if (log.isLevelEnabled(level)) {
    // No object built for a line that is off (one per Dovecot login).
    const reason = 'reason' in answer ? { reason: answer.reason } : {};
    log[level]({ event: 'verify', cid: req.cid, proto: req.protocol, service: r.service.slice(0, 32), user: r.user.slice(0, 255), ip: req.clientIp, answer: answer.kind, ...reason }, 'verify');
  }
  return answer;
}
