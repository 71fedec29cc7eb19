import type { Database } from 'better-sqlite3';
import type { AuditDailyCount, AuditPageQuery } from '../console-store.js';
import { statementCache } from './statement-cache.js';

/**
 * The admin console's audit queries (see AuditConsoleRepo). A page walks one index in (at, id)
 * order and stops after `limit` matches: the user's, the address's, the event's (the event's and
 * protocol's, when both are given) or the protocol's index when that filter is given (in this
 * order: the most selective first), else the time index. Several event names without a user or address filter are one walk per name, merged
 * (a prefix such as "login" is a handful of names).
 */

/** One walk: `event` is a single name here (the caller splits a list). */
export interface AuditWalk {
  sql: string;
  params: Record<string, string | number>;
}

export function auditWalk(q: AuditPageQuery, event: string | undefined): AuditWalk {
  const where: string[] = [];
  const params: Record<string, string | number> = { limit: q.limit };
  let index = 'audit_events_at';
  const add = (cond: string, name: string, value: string | number) => {
    where.push(cond);
    params[name] = value;
  };
  if (q.username !== undefined) add('username = @username', 'username', q.username);
  if (q.ip !== undefined) add('ip = @ip', 'ip', q.ip);
  if (event !== undefined) add('event = @event', 'event', event);
  else if (q.events !== undefined) add('event IN (SELECT value FROM json_each(@events))', 'events', JSON.stringify(q.events));
  if (q.protocol !== undefined) add('protocol = @protocol', 'protocol', q.protocol);
  if (q.username !== undefined) index = 'audit_events_username';
  else if (q.ip !== undefined) index = 'audit_events_ip';
  else if (event !== undefined) index = q.protocol === undefined ? 'audit_events_event' : 'audit_events_event_protocol';
  else if (q.protocol !== undefined) index = 'audit_events_protocol';
  if (q.since !== undefined) add('at >= @since', 'since', q.since);
  if (q.until !== undefined) add('at < @until', 'until', q.until);
  const back = q.before !== undefined;
  const cursor = q.after ?? q.before;
  if (cursor !== undefined) {
    // (at, id) past the cursor; the first half bounds the index range, the second breaks ties.
    where.push(back ? 'at >= @cat AND (at > @cat OR id > @cid)' : 'at <= @cat AND (at < @cat OR id < @cid)');
    params.cat = cursor.at;
    params.cid = cursor.id;
  }
  const dir = back ? 'ASC' : 'DESC';
  return {
    sql: `SELECT * FROM audit_events INDEXED BY ${index}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY at ${dir}, id ${dir} LIMIT @limit`,
    params,
  };
}

/** The walks of a query: one, or one per event name when only names (and protocol, times) filter. */
export function auditWalks(q: AuditPageQuery): AuditWalk[] {
  const events = q.events;
  if (events === undefined || q.username !== undefined || q.ip !== undefined) return [auditWalk(q, undefined)];
  return [...new Set(events)].map((e) => auditWalk(q, e));
}

export function auditConsoleStatements(db: Database) {
  return {
    walk: statementCache(db),
    daily: db.prepare<[{ day: number; event: string; protocol: string; via: string; why: string }]>(
      `INSERT INTO audit_daily (day, event, protocol, via, why, n) VALUES (@day, @event, @protocol, @via, @why, 1)
       ON CONFLICT (day, event, protocol, via, why) DO UPDATE SET n = n + 1`,
    ),
    dailyCounts: db.prepare<[number, number], AuditDailyCount>('SELECT day, event, protocol, via, why, n FROM audit_daily WHERE day >= ? AND day <= ?'),
    eventNames: db.prepare<[], { event: string }>('SELECT DISTINCT event FROM audit_daily ORDER BY event'),
  };
}
