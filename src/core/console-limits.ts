/**
 * The admin console's caps (issue 17), re-exported by limits.ts beside the other caps: sized for
 * 100,000 users and 1,000,000 audit events, where every page must answer within 200 ms.
 */
export const consoleLimits = {
  /** Users on one page of the console's list: a screenful to scan, and a few ms of queries. */
  userPageRows: 50,
  /** Audit events on one page. */
  auditPageRows: 100,
  /** Users named on the overview's "required but not enrolled" list (the rest: the filtered user list). */
  chaseRows: 20,
  /** Domains in the overview's table, the largest first (the rest are counted in the totals). */
  overviewDomains: 100,
  /** Days of the overview's chart. */
  rolloutDays: 30,
  /**
   * Accounts changed per transaction when a domain's policy changes (policy follows, two-step
   * wiped): a few ms of writes each, so logins' writes never wait long behind a domain of 100,000.
   */
  domainBatchRows: 2_000,
  /** Accounts whose two-step is wiped per transaction (four writes each) when their domain is disallowed. */
  domainWipeBatch: 200,
  /** Audit events read per query while an export streams (bounded memory whatever its size). */
  auditExportBatch: 1_000,
  /** Longest filter text (a user, an event, an address): a user name is at most 255 characters. */
  filterChars: 255,
  /** Longest domain name (RFC 1035: 253 characters). */
  domainChars: 253,
} as const;
