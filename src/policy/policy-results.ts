import type { AdminPolicy, AppCodeScope, TwofaState } from '../store/types.js';
import type { PolicySource } from './effective-policy.js';

export type { AdminPolicy, AppCodeScope, TwofaState, PolicySource };

/** showUser() */
export interface UserSummary {
  username: string;
  /** The policy that applies to the user ... */
  adminPolicy: AdminPolicy;
  /** ... and where it comes from: the user's own setting, their domain's, or the default. */
  source: PolicySource;
  twofaState: TwofaState;
  /** Active (non-revoked) application codes. */
  appCodes: number;
  oneTimeCodesUnused: number;
  /** Active trusted devices. */
  trustedDevices: number;
  /** ISO-8601 UTC; null when twostep has no account for the user yet (their domain's policy applies). */
  createdAt: string | null;
}

/** totpEnroll() */
export interface TotpEnrollment {
  /** base32 key for manual entry in the authenticator app. */
  key: string;
  /** otpauth://totp/... for a QR code. */
  uri: string;
}

/** appCodeList() entries; dates ISO-8601 UTC or null. */
export interface AppCodeInfo {
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  lastUsedIp: string | null;
  lastUsedProtocol: string | null;
  lastUsedClient: string | null;
  /** The protocols it signs in to (all three unless it was limited). */
  scopes: AppCodeScope[];
  /** When it stops signing in, or null: never. */
  expiresAt: string | null;
  /** Past expiresAt: refused (revoke it, or leave it). */
  expired: boolean;
}

/** appCodeAdd() options: what a new code may do (default: every protocol, [codes] default_expiry_days). */
export interface NewAppCodeOptions {
  /** "imap", "pop3", "smtp": some or all; absent: all. */
  scopes?: readonly string[];
  /** Lifetime in days; 0: never expires; absent: the configured default. */
  expiresDays?: number;
}

/** oneTimeCodesShow() */
export interface OneTimeCodesView {
  /** Unused codes, 8 digits each. */
  unused: string[];
  usedCount: number;
}

/** audit() entries, newest first. */
export interface AuditEntry {
  /** ISO-8601 UTC. */
  at: string;
  user: string | null;
  event: string;
  protocol: string | null;
  ip: string | null;
  detail: Record<string, unknown>;
}
