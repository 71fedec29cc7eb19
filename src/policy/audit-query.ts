import { TwostepError } from '../core/errors.js';
import { consoleLimits } from '../core/limits.js';
import type { AuditCursor, AuditPageQuery } from '../store/console-store.js';
import type { AuditEvent } from '../store/types.js';
import { iso, type PolicyContext } from './policy-context.js';
import type { AuditEntry } from './policy-results.js';
import { normalizeUsername } from './username.js';

/** The audit log's filters, as the console's form and `twostep audit` take them (all optional). */
export interface AuditQuery {
  user?: string;
  /** An event name or its start: "login" matches login.ok, login.fail, ... */
  event?: string;
  protocol?: string;
  ip?: string;
  /** From (inclusive) and until (exclusive): see parseAuditTime. */
  since?: string;
  until?: string;
}

export interface AuditPage {
  entries: AuditEntry[];
  /** Position of the next (older) page, or null at the end. */
  next: string | null;
  /** Position of the previous (newer) page, or null on the first page. */
  prev: string | null;
}

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/**
 * A time as an admin types it: "2026-05-01" (UTC midnight; as an `until`, the end of that day),
 * "2026-05-01T08:30" or "2026-05-01 08:30:15" (UTC unless a zone is given: "Z", "+02:00"), or a
 * time ago: "15m", "12h", "7d", "2w". INVALID_INPUT for anything else.
 */
export function parseAuditTime(input: string, now: number, end = false): number {
  const s = input.trim();
  const ago = /^(\d{1,6})([mhdw])$/.exec(s);
  if (ago) return now - Number(ago[1]) * (UNITS[ago[2] as string] as number);
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  let t = Number.NaN;
  if (day) {
    t = Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3]));
    if (new Date(t).toISOString().slice(0, 10) !== s) t = Number.NaN; // 2026-13-01, 2026-02-30
    else if (end) t += 86_400_000;
  } else if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?$/i.test(s)) {
    const zoned = /(Z|[+-]\d{2}:?\d{2})$/i.test(s.slice(10));
    t = Date.parse(`${s.replace(' ', 'T')}${zoned ? '' : 'Z'}`);
    if (!zoned && Number.isFinite(t) && new Date(t).toISOString().slice(0, 16) !== s.replace(' ', 'T').slice(0, 16)) t = Number.NaN;
  }
  if (!Number.isFinite(t)) throw new TwostepError('INVALID_INPUT', `not a time: "${s.slice(0, 40)}" (use 2026-05-01, 2026-05-01T08:30 (UTC), or 7d, 12h, 30m ago)`);
  return t;
}

const filterText = (s: string | undefined, max: number = consoleLimits.filterChars): string | undefined => {
  const t = s?.trim();
  if (t === undefined || t === '') return undefined;
  if (t.length > max) throw new TwostepError('INVALID_INPUT', `a filter is at most ${max} characters`);
  return t;
};

/** The store's query for these filters (an event prefix becomes the names it matches). */
async function storeQuery(ctx: PolicyContext, q: AuditQuery, limit: number): Promise<AuditPageQuery> {
  const now = ctx.clock();
  const user = filterText(q.user);
  const event = filterText(q.event);
  const out: AuditPageQuery = {
    username: user === undefined ? undefined : normalizeUsername(user),
    protocol: filterText(q.protocol, 32)?.toLowerCase(),
    ip: filterText(q.ip, 64),
    since: q.since?.trim() ? parseAuditTime(q.since, now) : undefined,
    until: q.until?.trim() ? parseAuditTime(q.until, now, true) : undefined,
    limit,
  };
  if (event !== undefined) {
    const names = await ctx.wrapStore(() => ctx.store.audit.eventNames());
    out.events = [event, ...names.filter((n) => n.startsWith(`${event}.`))];
  }
  return out;
}

const encode = (e: AuditEvent): string => `${e.at}.${e.id}`;

function decode(s: string | undefined): AuditCursor | undefined {
  const m = s === undefined ? null : /^(\d{1,15})\.(\d{1,15})$/.exec(s.trim());
  return m ? { at: Number(m[1]), id: Number(m[2]) } : undefined;
}

export const toEntry = (e: AuditEvent): AuditEntry => ({ at: iso(e.at), user: e.username, event: e.event, protocol: e.protocol, ip: e.ip, detail: e.detail });

/**
 * One page of the audit log, newest first, filtered on the server; `after` / `before` are the
 * positions a previous page returned (next / prev). Keyset pagination: each page reads about
 * `limit` index entries, however deep into 1,000,000 events it is.
 */
export async function auditPage(ctx: PolicyContext, q: AuditQuery, pos: { after?: string; before?: string } = {}): Promise<AuditPage> {
  const limit = consoleLimits.auditPageRows;
  const after = decode(pos.after);
  const before = after === undefined ? decode(pos.before) : undefined;
  const sq = { ...(await storeQuery(ctx, q, limit + 1)), after, before };
  await ctx.settleWrites(); // this process's latest events too
  const rows = await ctx.wrapStore(() => ctx.store.audit.page(sq));
  const more = rows.length > limit;
  const page = before === undefined ? rows.slice(0, limit) : rows.slice(rows.length - Math.min(rows.length, limit));
  const first = page[0];
  const last = page[page.length - 1];
  const entries = page.map(toEntry);
  if (before !== undefined) return { entries, next: last ? encode(last) : null, prev: more && first ? encode(first) : null };
  return { entries, next: more && last ? encode(last) : null, prev: after !== undefined && first ? encode(first) : null };
}

/**
 * Every event the filters match, newest first, read consoleLimits.auditExportBatch at a time
 * (memory stays bounded however many there are); `max` stops early.
 */
export async function* auditExport(ctx: PolicyContext, q: AuditQuery, max = Number.POSITIVE_INFINITY): AsyncGenerator<AuditEntry> {
  const batch = consoleLimits.auditExportBatch;
  const sq = await storeQuery(ctx, q, batch);
  await ctx.settleWrites();
  let after: AuditCursor | undefined;
  let sent = 0;
  for (;;) {
    const rows = await ctx.wrapStore(() => ctx.store.audit.page({ ...sq, after, limit: Math.min(batch, max - sent) }));
    for (const e of rows) yield toEntry(e);
    sent += rows.length;
    const last = rows[rows.length - 1];
    if (!last || rows.length < batch || sent >= max) return;
    after = { at: last.at, id: last.id };
  }
}
