import type { AdminPolicy, TwofaState } from '../store/types.js';
import type { PolicySource } from './effective-policy.js';

export type { AdminPolicy, TwofaState, PolicySource };

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
