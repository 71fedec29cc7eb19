import type { Database } from 'better-sqlite3';
import type { AccountListQuery, RolloutState } from '../console-store.js';
import type { AdminPolicy, TwofaState } from '../types.js';
import { statementCache } from './statement-cache.js';

/**
 * The admin console's account queries (see AccountsConsoleRepo). Each page query names its
 * index: pages through 100,000 accounts read about `limit` index entries, whatever the filter,
 * except `contains` (a substring: every name is looked at, in name order, until the page is full).
 */

/** rolloutState() of src/policy as SQL: test/unit/console-store.test.ts checks they agree. */
export const ROLLOUT_STATE_SQL: Record<RolloutState, string> = {
  on: `a.twofa_state = 'on'`,
  required: `a.admin_policy = 'required' AND a.twofa_state <> 'on'`,
  allowed: `a.admin_policy = 'allowed' AND a.twofa_state <> 'on'`,
  off: `a.admin_policy = 'disallowed' AND a.twofa_state <> 'on'`,
};

/** The account columns (the generated `domain` is left out) and the counts the list shows. */
export const ACCOUNT_COLUMNS =
  'a.id, a.username, a.admin_policy, a.own_policy, a.twofa_state, a.totp_secret_enc, a.totp_last_step, a.created_at, a.updated_at';

/** The page query for this combination of filters; its parameters are named as in pageParams. */
export function accountPageSql(q: AccountListQuery): string {
  const where: string[] = [];
  // One index per shape: the domain's, the state's, or the name's (the unique index: no INDEXED BY).
  let index = '';
  if (q.domain !== undefined) {
    where.push('a.domain = @domain');
    index = 'accounts_domain';
  }
  if (q.state !== undefined) {
    where.push(ROLLOUT_STATE_SQL[q.state]);
    // 'on' walks the names (two-step on is common once the rollout is under way).
    if (q.state !== 'on') index ||= 'accounts_policy';
  }
  if (q.contains !== undefined) where.push('instr(a.username, @contains) > 0');
  const back = q.before !== undefined;
  if (q.after !== undefined) where.push('a.username > @after');
  if (back) where.push('a.username < @before');
  return `SELECT ${ACCOUNT_COLUMNS},
  (SELECT count(*) FROM app_codes c WHERE c.account_id = a.id AND c.revoked_at IS NULL) AS app_codes_n,
  (SELECT count(*) FROM trusted_devices d WHERE d.account_id = a.id AND d.revoked_at IS NULL) AS devices_n
FROM accounts a${index ? ` INDEXED BY ${index}` : ''}${where.length ? `\nWHERE ${where.join(' AND ')}` : ''}
ORDER BY a.username${back ? ' DESC' : ''} LIMIT @limit`;
}

export function pageParams(q: AccountListQuery): Record<string, string | number> {
  const p: Record<string, string | number> = { limit: q.limit };
  if (q.domain !== undefined) p.domain = q.domain;
  if (q.contains !== undefined) p.contains = q.contains;
  if (q.after !== undefined) p.after = q.after;
  if (q.before !== undefined) p.before = q.before;
  return p;
}

export function accountConsoleStatements(db: Database) {
  return {
    page: statementCache(db),
    rollout: db.prepare<[], { domain: string; admin_policy: AdminPolicy; twofa_state: TwofaState; n: number }>(
      `SELECT domain, admin_policy, twofa_state, count(*) AS n FROM accounts INDEXED BY accounts_rollout
       GROUP BY domain, admin_policy, twofa_state`,
    ),
    setPolicy: db.prepare<[{ policy: AdminPolicy; own: number; now: number; id: number }]>(
      'UPDATE accounts SET admin_policy = @policy, own_policy = @own, updated_at = @now WHERE id = @id',
    ),
    syncFollowers: db.prepare<[{ policy: AdminPolicy; now: number; domain: string; batch: number }]>(
      `UPDATE accounts SET admin_policy = @policy, updated_at = @now WHERE id IN (
         SELECT id FROM accounts INDEXED BY accounts_followers
         WHERE domain = @domain AND own_policy = 0 AND admin_policy <> @policy LIMIT @batch)`,
    ),
    disallowedNotOff: db.prepare<[{ domain: string; limit: number }], Record<string, unknown>>(
      `SELECT ${ACCOUNT_COLUMNS} FROM accounts a INDEXED BY accounts_rollout
       WHERE a.domain = @domain AND a.admin_policy = 'disallowed' AND a.twofa_state <> 'off' LIMIT @limit`,
    ),
  };
}
