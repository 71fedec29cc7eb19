import type { Hono } from 'hono';
import { AUDIT_CSV_HEADER, auditCsvLine, type AuditEntry, type AuditQuery } from '../../policy/index.js';
import type { PortalContext, PortalDeps, PortalEnv } from '../portal-context.js';
import { adminAuditPage } from '../views/admin-audit-views.js';
import { actorOf, type AdminRoutes } from './admin-guard.js';
import { refusalMessage } from './route-helpers.js';

const FILTER_KEYS = ['user', 'event', 'protocol', 'ip', 'since', 'until'] as const;

function auditQuery(c: PortalContext): AuditQuery {
  const f: Record<string, string | undefined> = {};
  for (const k of FILTER_KEYS) {
    const v = c.req.query(k)?.trim();
    f[k] = v === undefined || v === '' ? undefined : v.slice(0, 512);
  }
  return f;
}

/** Bytes gathered before a chunk of an export goes out: few writes, bounded memory. */
const EXPORT_CHUNK_CHARS = 64 * 1024;

/** The export as a stream of chunks: pulled as the browser reads (backpressure), ended early if it goes. */
function exportStream(first: string, rest: AsyncGenerator<string>): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  let pending = first;
  return new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      for (;;) {
        const n = await rest.next();
        if (n.done) {
          if (pending) ctrl.enqueue(enc.encode(pending));
          pending = '';
          ctrl.close();
          return;
        }
        pending += n.value;
        if (pending.length >= EXPORT_CHUNK_CHARS) {
          ctrl.enqueue(enc.encode(pending));
          pending = '';
          return;
        }
      }
    },
    async cancel() {
      await rest.return(undefined);
    },
  });
}

async function* lines(entries: AsyncGenerator<AuditEntry>, format: 'csv' | 'json'): AsyncGenerator<string> {
  let n = 0;
  for await (const e of entries) yield format === 'csv' ? auditCsvLine(e) : `${n++ === 0 ? '' : ',\n'}${JSON.stringify(e)}`;
  if (format === 'json') yield '\n]\n';
}

/** The audit log: filtered pages, and the filtered events as CSV or JSON (streamed, however many). */
export function adminAuditRoutes(app: Hono<PortalEnv>, d: PortalDeps, { get }: AdminRoutes): void {
  get('/admin/audit', async (c, s) => {
    const filter = auditQuery(c);
    const pos = { after: c.req.query('after'), before: c.req.query('before') };
    const view = { csrf: c.get('csrf'), admin: s.view.subject, filter };
    try {
      const [result, events] = await Promise.all([d.policy.console.auditPage(filter, pos), d.policy.console.eventNames()]);
      return c.html(adminAuditPage({ ...view, result, events }));
    } catch (err) {
      return c.html(adminAuditPage({ ...view, result: { entries: [], next: null, prev: null }, events: [], error: refusalMessage(err) }), 400);
    }
  });

  for (const format of ['csv', 'json'] as const) {
    get(`/admin/audit/export.${format}`, async (c, s) => {
      const filter = auditQuery(c);
      const body = lines(d.policy.console.auditExport(filter), format);
      let first: IteratorResult<string>;
      try {
        first = await body.next(); // the filters are checked (and the first events read) before the answer starts
      } catch (err) {
        return c.text(`${refusalMessage(err)}\n`, 400);
      }
      d.policy.recordAdminAction(actorOf(c, s), 'audit-export', filter.user ?? null, { format, filter });
      const head = format === 'csv' ? AUDIT_CSV_HEADER : '[\n';
      const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, '');
      return c.body(exportStream(head + (first.done ? '' : first.value), body), 200, {
        'Content-Type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
        'Content-Disposition': `attachment; filename="twostep-audit-${stamp}.${format}"`,
      });
    });
  }
}
