import type { Secret } from '../core/secret.js';

/**
 * The protocols (and the portal) that ask the policy for a decision. Through Dovecot's Lua passdb
 * (src/verify) also Dovecot's own services: 'sieve' (ManageSieve), 'submission' (Dovecot's
 * submission service), 'smtp' (Postfix SASL), 'other' (any other service name).
 */
export type Protocol = 'imap' | 'pop3' | 'smtp' | 'portal' | 'sieve' | 'submission' | 'other';

/** What a protocol front end hands to policy.authenticate() once it has parsed a login. */
export interface AuthRequest {
  protocol: Protocol;
  /** 'PLAIN' or 'LOGIN' (the SASL mechanism; also IMAP's LOGIN command), 'USER' (POP3 USER/PASS) */
  mechanism: string;
  /** Authentication identity as the client typed it. */
  user: string;
  /** SASL PLAIN authorization identity, when the client sent a non-empty one. */
  authzid?: string;
  /** The password or application code the client sent. */
  secret: Secret;
  clientIp: string;
  clientPort: number;
  /** True when the client connection is TLS (implicit or after STARTTLS). */
  tls: boolean;
  /** Client's self-description (IMAP ID name + version), bounded by limits.clientNameChars. */
  clientName?: string;
  /** Connection id for logs. */
  cid: string;
  /**
   * 'passdb': Dovecot's Lua passdb asks (src/verify), not a twostep front end. Dovecot then
   * delays refusals itself (auth_failure_delay) and enforces TLS (disable_plaintext_auth), so the
   * policy adds neither; a passthrough decision is settled 'delegated'.
   */
  origin?: 'passdb';
}

/** Every reason a login can fail; each protocol renders all of them in one exhaustive table. */
export type FailReason =
  | 'invalid-credentials' // wrong password/code (passthrough backend said no, or bad code for a user)
  | 'app-code-required' // account has 2FA on and the secret was not an active application code
  | 'tls-required' // plaintext login attempted where allow_plaintext = false
  | 'throttled' // too many recent failures from this IP or for this user
  | 'backend-unavailable' // backend could not be reached or failed unexpectedly
  | 'malformed'; // unparsable credentials (bad base64, NUL in user name, over-long)

export type AuthDecision =
  /**
   * The account does not use 2FA: log in upstream with the client's own credentials and relay the
   * answer; then tell the policy the backend's verdict through `passthrough.settle`.
   */
  | { ok: true; via: 'passthrough'; user: string; passthrough: PassthroughHandle }
  /** An active application code matched: log in upstream as `user` via the master login. */
  | { ok: true; via: 'app-code'; user: string; codeId: number; codeName: string }
  | { ok: false; reason: FailReason; retryAfterMs?: number };

export type AuthFailure = Extract<AuthDecision, { ok: false }>;

/**
 * Outcome of a passthrough login as the backend judged it, reported back for throttling and audit.
 * 'delegated': the verdict belongs to someone twostep never hears from (Dovecot's own passdb, after
 * the Lua passdb answered "not mine"): releases the hold, audits nothing.
 */
export type PassthroughOutcome = 'ok' | 'rejected' | 'backend-unavailable' | 'delegated';

/**
 * A passthrough decision whose backend verdict is still due: the caller reports it once with
 * settle() (later calls are ignored). Until then the attempt counts against the user's throttle
 * (a deadline ends that should no verdict ever come, e.g. the client left first).
 */
export interface PassthroughHandle {
  /**
   * Records the verdict (throttle, audit). Resolves when the client may be answered: for a
   * refusal, [auth] failure_delay_ms after the attempt began, so every refusal takes the same
   * time whoever judged it; otherwise at once.
   */
  settle(outcome: PassthroughOutcome): Promise<void>;
}

/** The login surface the protocol front ends depend on (nothing else of the policy). */
export interface Authenticator {
  authenticate(req: AuthRequest): Promise<AuthDecision>;
}

/** A live session that signed in with an application code and was closed because the code no longer holds. */
export interface RevokedSession {
  protocol: Protocol;
  user: string;
  codeId: number;
  codeName: string;
  cid: string;
  clientIp: string;
}

/** What the revocation watcher asks of the policy (nothing else of it). */
export interface RevocationCheck {
  /**
   * Which of these application code ids no longer sign in: revoked, deleted, expired, or their account's
   * two-step authentication is off. Reads the store (another process may have revoked).
   */
  revokedCodeIds(codeIds: readonly number[]): Promise<number[]>;
  /** Audits a session closed because its code was revoked (never the code itself). */
  recordSessionRevoked(s: RevokedSession): void;
  /**
   * Calls `listener` as soon as a revocation is known (any node, PostgreSQL's notices); returns
   * the function that stops it. Absent or silent: the poll alone finds revocations.
   */
  onRevocation?(listener: () => void): () => void;
}

export function exhaustive(x: never): never {
  throw new Error(`unhandled case: ${String(x)}`);
}
