import type { AccountListQuery, AuditPageQuery } from '../console-store.js';
import { ROLLOUT_STATE_SQL } from '../sqlite/account-pages.js';

/**
 * The admin console's page queries in PostgreSQL's words (see sqlite/account-pages.ts and
 * sqlite/audit-pages.ts for the shapes and the indexes they walk). Names compare in byte order
 * (COLLATE "C"), as SQLite does and as the accounts indexes are built, so keyset pages agree.
 */

/** Numbered parameters in the order they are added. */
class Params {
  readonly values: unknown[] = [];
  add(v: unknown): string {
    return `$${this.values.push(v)}`;
  }
}

const ACCOUNT_COLUMNS =
  'a.id, a.username, a.admin_policy, a.own_policy, a.twofa_state, a.totp_secret_enc, a.totp_last_step, a.created_at, a.updated_at';

export function pgAccountPage(q: AccountListQuery): { text: string; values: unknown[] } {
  const p = new Params();
  const where: string[] = [];
  if (q.domain !== undefined) where.push(`a.domain = ${p.add(q.domain)}`);
  if (q.state !== undefined) where.push(ROLLOUT_STATE_SQL[q.state]);
  if (q.contains !== undefined) where.push(`strpos(a.username, ${p.add(q.contains)}) > 0`);
  const back = q.before !== undefined;
  if (q.after !== undefined) where.push(`a.username COLLATE "C" > ${p.add(q.after)}`);
  if (back) where.push(`a.username COLLATE "C" < ${p.add(q.before)}`);
  const text = `SELECT ${ACCOUNT_COLUMNS},
  (SELECT count(*) FROM app_codes c WHERE c.account_id = a.id AND c.revoked_at IS NULL) AS app_codes_n,
  (SELECT count(*) FROM trusted_devices d WHERE d.account_id = a.id AND d.revoked_at IS NULL) AS devices_n
FROM accounts a${where.length ? `\nWHERE ${where.join(' AND ')}` : ''}
ORDER BY a.username COLLATE "C"${back ? ' DESC' : ''} LIMIT ${p.add(q.limit)}`;
  return { text, values: p.values };
}

/** One audit walk (one event name at most), as sqlite/audit-pages.ts auditWalk. */
export function pgAuditWalk(q: AuditPageQuery, event: string | undefined): { text: string; values: unknown[] } {
  const p = new Params();
  const where: string[] = [];
  if (q.username !== undefined) where.push(`username = ${p.add(q.username)}`);
  if (q.ip !== undefined) where.push(`ip = ${p.add(q.ip)}`);
  if (event !== undefined) where.push(`event = ${p.add(event)}`);
  else if (q.events !== undefined) where.push(`event = ANY(${p.add(q.events)}::text[])`);
  if (q.protocol !== undefined) where.push(`protocol = ${p.add(q.protocol)}`);
  if (q.since !== undefined) where.push(`at >= ${p.add(q.since)}`);
  if (q.until !== undefined) where.push(`at < ${p.add(q.until)}`);
  const back = q.before !== undefined;
  const cursor = q.after ?? q.before;
  if (cursor !== undefined) {
    const at = p.add(cursor.at);
    const id = p.add(cursor.id);
    where.push(back ? `(at, id) > (${at}, ${id})` : `(at, id) < (${at}, ${id})`);
  }
  const dir = back ? 'ASC' : 'DESC';
  return {
    text: `SELECT * FROM audit_events${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY at ${dir}, id ${dir} LIMIT ${p.add(q.limit)}`,
    values: p.values,
  };
}

/** The walks of a query: one, or one per event name when only names (and protocol, times) filter. */
export function pgAuditWalks(q: AuditPageQuery): { text: string; values: unknown[] }[] {
  const events = q.events;
  if (events === undefined || q.username !== undefined || q.ip !== undefined) return [pgAuditWalk(q, undefined)];
  return [...new Set(events)].map((e) => pgAuditWalk(q, e));
}
