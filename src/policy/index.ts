export { Policy, createPolicy, type PolicyOptions } from './policy.js';
export type {
  AdminPolicy,
  TwofaState,
  UserSummary,
  TotpEnrollment,
  AppCodeInfo,
  OneTimeCodesView,
  AuditEntry,
} from './policy-results.js';
export { FailureThrottle, type ThrottleVerdict } from './failure-throttle.js';
export { normalizeUsername, usernameProblem } from './username.js';
export { normalizeAppCodeName, APP_CODE_NAME_MAX_CHARS } from './app-code-name.js';
export * from './types.js';
