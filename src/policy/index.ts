export { Policy, createPolicy, type PolicyOptions } from './policy.js';
export type {
  AdminPolicy,
  TwofaState,
  UserSummary,
  TotpEnrollment,
  AppCodeInfo,
  AppCodeScope,
  NewAppCodeOptions,
  OneTimeCodesView,
  AuditEntry,
} from './policy-results.js';
export { normalizeUsername, usernameProblem } from './username.js';
export { normalizeAppCodeName, APP_CODE_NAME_MAX_CHARS } from './app-code-name.js';
export { APP_CODE_SCOPES, defaultExpiryDays, scopeOf } from './code-limits.js';
export { NOTICE_KINDS, type NoticeKind } from './notice-kinds.js';
export type { MailNoticeQueue } from './notices.js';
export * from './types.js';
export type { PasswordChecker, PasswordVerdict } from './password-checker.js';
export type { PortalSignInRequest, PortalSignInResult, SecondFactorResult } from './portal-sign-in.js';
export type { WebSessionView } from './web-sessions.js';
export type { AccountOverview } from './portal-account.js';
export { ADMIN_PASSWORD_MIN_CHARS, type AdminInfo, type AdminSignInResult, type AdminConfirmResult } from './admin-accounts.js';
export type { ConsolePolicy } from './console-policy.js';
export { ADMIN_POLICIES, DEFAULT_POLICY, type PolicySource } from './effective-policy.js';
export type { DomainInfo } from './domains.js';
export { ROLLOUT_STATES, type UserPage, type UserQuery, type UserRow } from './user-directory.js';
export type { RolloutOverview, RolloutDay, RolloutCounts, DomainRollout } from './rollout.js';
export { parseAuditTime, type AuditPage, type AuditQuery } from './audit-query.js';
export { AUDIT_CSV_HEADER, auditCsvLine } from './audit-csv.js';
export type { RolloutState } from '../store/console-store.js';
export type { AdminActor, AuditFilter } from './admin-console.js';
export type { WebSessionKind, WebSessionStage } from '../store/types.js';
