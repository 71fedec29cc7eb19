/** Domain rows as the store returns them. Times are unix milliseconds. */

export type AdminPolicy = 'allowed' | 'required' | 'disallowed';
export type TwofaState = 'off' | 'pending' | 'on';
/** What an application code may sign in to (issue 15): a limited code names some of these. */
export type AppCodeScope = 'imap' | 'pop3' | 'smtp';

export interface Account {
  id: number;
  username: string;
  /** The policy that applies: the user's own (ownPolicy), else kept equal to the domain's or the default. */
  adminPolicy: AdminPolicy;
  /** True: adminPolicy is the user's own setting; false: the account follows its domain. */
  ownPolicy: boolean;
  twofaState: TwofaState;
  totpSecretEnc: Buffer | null;
  totpLastStep: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface AppCode {
  id: number;
  accountId: number;
  name: string;
  lookup: string;
  hash: string;
  createdAt: number;
  lastUsedAt: number | null;
  lastUsedIp: string | null;
  lastUsedProtocol: string | null;
  lastUsedClient: string | null;
  revokedAt: number | null;
  /** null: every protocol; else only these (never empty). */
  scopes: AppCodeScope[] | null;
  /** null: never expires. */
  expiresAt: number | null;
  /** When the "expires in a week" notice was queued, or null. */
  expiryNoticeAt: number | null;
}

export interface OneTimeCode {
  id: number;
  accountId: number;
  lookup: string;
  secretEnc: Buffer;
  createdAt: number;
  usedAt: number | null;
}

export interface TrustedDevice {
  id: number;
  accountId: number;
  tokenHash: string;
  label: string;
  createdAt: number;
  lastSeenAt: number | null;
  revokedAt: number | null;
}

export interface AuditEvent {
  id: number;
  at: number;
  username: string | null;
  event: string;
  protocol: string | null;
  ip: string | null;
  detail: Record<string, unknown>;
}

export type WebSessionKind = 'user' | 'admin';
export type WebSessionStage = 'second-factor' | 'signed-in';

export interface WebSession {
  id: number;
  tokenHash: string;
  kind: WebSessionKind;
  subject: string;
  stage: WebSessionStage;
  csrfSecret: string;
  /** When the password was last confirmed in this session (setup wizard), or null. */
  reauthAt: number | null;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
}

export interface AdminAccount {
  id: number;
  name: string;
  passwordHash: string;
  totpSecretEnc: Buffer;
  totpLastStep: number | null;
  /** When a console sign-in proved a code of the current key; null: not yet (admin add, reset-totp). */
  totpConfirmedAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/** What a caller hands to the store to create or update rows (ids and defaults are the store's). */

export interface NewAppCode {
  accountId: number;
  name: string;
  lookup: string;
  hash: string;
  createdAt: number;
  /** Absent or null: every protocol. */
  scopes?: AppCodeScope[] | null;
  /** Absent or null: never expires. */
  expiresAt?: number | null;
}

export interface AppCodeUse {
  at: number;
  ip: string;
  protocol: string;
  client: string | null;
}

export interface NewOneTimeCode {
  accountId: number;
  lookup: string;
  secretEnc: Buffer;
  createdAt: number;
}

export interface NewTrustedDevice {
  accountId: number;
  tokenHash: string;
  label: string;
  createdAt: number;
}

export interface NewAuditEvent {
  at: number;
  username?: string | null;
  event: string;
  protocol?: string | null;
  ip?: string | null;
  /** Must never hold a secret; callers pass reasons, names and ids only. */
  detail?: Record<string, unknown>;
}

export interface NewWebSession {
  tokenHash: string;
  kind: WebSessionKind;
  subject: string;
  stage: WebSessionStage;
  csrfSecret: string;
  createdAt: number;
  expiresAt: number;
}

/**
 * A mail to a user about their account (two-step on or off, a code added, a new browser, ...),
 * queued in the store and sent by `serve`'s sender loop, never on the login path. `detail` holds
 * only what the text needs (names, times, addresses), never a code or key.
 */
export interface MailNotice {
  id: number;
  username: string;
  kind: string;
  detail: Record<string, unknown>;
  createdAt: number;
  /** Sending attempts so far. */
  attempts: number;
  /** When it is due (again). */
  nextAt: number;
  /** A sender holds it until then (another sender leaves it alone). */
  claimedUntil: number | null;
  sentAt: number | null;
  failedAt: number | null;
  lastError: string | null;
}

export interface NewMailNotice {
  username: string;
  kind: string;
  /** Must never hold a secret. */
  detail: Record<string, unknown>;
  createdAt: number;
}
