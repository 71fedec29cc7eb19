import { Command, InvalidArgumentError } from 'commander';
import { withPolicy } from '../context.js';
import { stdout, table } from '../output.js';

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive whole number');
  return n;
}

export function auditCommand(): Command {
  return new Command('audit')
    .description('recent security events (logins, enrolments, codes), newest first')
    .option('--user <user>', 'only this user')
    .option('--limit <n>', 'at most n events', positiveInt, 100)
    .option('--json', 'machine-readable output')
    .action(async (opts: { user?: string; limit: number; json?: boolean }, cmd: Command) => {
      await withPolicy(cmd, async ({ policy }) => {
        const events = await policy.audit({ user: opts.user, limit: opts.limit });
        if (opts.json) return stdout.json(events);
        if (events.length === 0) return stdout.line('No events.');
        const rows = events.map((e) => [
          e.at,
          e.user ?? '-',
          e.event,
          e.protocol ?? '-',
          e.ip ?? '-',
          e.detail ? JSON.stringify(e.detail) : '',
        ]);
        for (const l of table(['Time', 'User', 'Event', 'Protocol', 'IP', 'Detail'], rows)) stdout.line(l);
      });
    });
}
