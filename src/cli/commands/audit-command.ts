import { Command, InvalidArgumentError, Option } from 'commander';
import { AUDIT_CSV_HEADER, auditCsvLine, type AuditEntry, type AuditQuery } from '../../policy/index.js';
import { withPolicy } from '../context.js';
import { stdout, table, writeOut as write } from '../output.js';

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive whole number');
  return n;
}

interface AuditOptions extends AuditQuery {
  limit?: number;
  json?: boolean;
  csv?: boolean;
}

export function auditCommand(): Command {
  return new Command('audit')
    .description('security events (logins, enrolments, codes, admin actions), newest first')
    .option('--user <user>', 'only this user')
    .option('--event <event>', 'only this event or its sub-events ("login" matches login.ok, login.fail, ...)')
    .option('--protocol <protocol>', 'only this protocol (imap, pop3, smtp, portal, ...)')
    .option('--ip <address>', 'only this client address')
    .option('--since <time>', 'from this time: 2026-05-01, 2026-05-01T08:30 (UTC), or 7d, 12h, 30m ago')
    .option('--until <time>', 'before this time (a date alone: up to the end of that day)')
    .option('--limit <n>', 'at most n events (default 100; with --csv: every matching event)', positiveInt)
    .option('--json', 'machine-readable output')
    .addOption(new Option('--csv', 'CSV (time, user, event, protocol, ip, detail), e.g. to export a month').conflicts('json'))
    .action(async (opts: AuditOptions, cmd: Command) => {
      await withPolicy(cmd, async ({ policy }) => {
        const { limit, json: _json, csv: _csv, ...filter } = opts;
        const events = policy.console.auditExport(filter, limit ?? (opts.csv ? undefined : 100));
        if (opts.csv) {
          // Streamed: a year of events never sits in memory.
          let chunk = AUDIT_CSV_HEADER;
          for await (const e of events) {
            chunk += auditCsvLine(e);
            if (chunk.length >= 64 * 1024) {
              await write(chunk);
              chunk = '';
            }
          }
          return write(chunk);
        }
        const list: AuditEntry[] = [];
        for await (const e of events) list.push(e);
        if (opts.json) return stdout.json(list);
        if (list.length === 0) return stdout.line('No events.');
        const rows = list.map((e) => [e.at, e.user ?? '-', e.event, e.protocol ?? '-', e.ip ?? '-', JSON.stringify(e.detail)]);
        for (const l of table(['Time', 'User', 'Event', 'Protocol', 'IP', 'Detail'], rows)) stdout.line(l);
      });
    });
}
