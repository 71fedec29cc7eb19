import { Command, InvalidArgumentError } from 'commander';
import type { AppCodeInfo } from '../../policy/index.js';
import { withPolicy } from '../context.js';
import { shortTime } from '../format.js';
import { stdout, table } from '../output.js';

/** "imap,smtp" → ["imap", "smtp"] (the policy checks the names). */
const scopeList = (v: string): string[] => v.split(',');

function days(v: string): number {
  if (!/^\d{1,4}$/.test(v)) throw new InvalidArgumentError('a whole number of days (0: never expires)');
  return Number(v);
}

/** "IMAP, SMTP", or "all" for a code that may use every protocol. */
export function accessText(scopes: readonly string[]): string {
  return scopes.length === 3 ? 'all' : scopes.map((s) => s.toUpperCase()).join(', ');
}

const expiresText = (c: AppCodeInfo): string => (c.expiresAt === null ? 'never' : `${shortTime(c.expiresAt)}${c.expired ? ' (expired)' : ''}`);

export function appcodeCommand(): Command {
  const appcode = new Command('appcode').description('application codes: passwords for mail apps');
  appcode
    .command('add <user> <name>')
    .description('create an application code; printed once, alone on the last line')
    .option('--only <protocols>', 'limit it to some of imap, pop3, smtp (comma-separated; default: all)', scopeList)
    .option('--expires-days <n>', 'it stops working after this many days (0: never; default: [codes] default_expiry_days)', days)
    .action(async (user: string, name: string, o: { only?: string[]; expiresDays?: number }, cmd: Command) => {
      await withPolicy(cmd, async ({ policy }) => {
        const created = await policy.appCodeAdd(user, name, { ...(o.only ? { scopes: o.only } : {}), ...(o.expiresDays === undefined ? {} : { expiresDays: o.expiresDays }) });
        stdout.line(`Application code for ${user} (${created.name}): ${accessText(created.scopes)}, expires ${created.expiresAt === null ? 'never' : shortTime(created.expiresAt)}.`);
        stdout.line('Enter it as the password in that app:');
        stdout.line(created.code);
      });
    });
  appcode
    .command('list <user>')
    .description('Name, Created, Last Used (time, IP, protocol, client), Access, Expires')
    .option('--json', 'machine-readable output (scopes, expiresAt)')
    .action(async (user: string, opts: { json?: boolean }, cmd: Command) => {
      await withPolicy(cmd, async ({ policy }) => {
        const codes = await policy.appCodeList(user);
        if (opts.json) return stdout.json(codes);
        if (codes.length === 0) return stdout.line('No results found.');
        const rows = codes.map((c) => [
          c.name,
          shortTime(c.createdAt),
          shortTime(c.lastUsedAt),
          c.lastUsedIp ?? '-',
          c.lastUsedProtocol ?? '-',
          accessText(c.scopes),
          expiresText(c),
          c.lastUsedClient ?? '-',
        ]);
        for (const l of table(['Name', 'Created', 'Last Used', 'IP', 'Protocol', 'Access', 'Expires', 'Client'], rows)) stdout.line(l);
      });
    });
  appcode
    .command('revoke <user> <name>')
    .description('revoke an application code; the app can no longer sign in')
    .action(async (user: string, name: string, _o, cmd: Command) => {
      await withPolicy(cmd, async ({ policy }) => {
        await policy.appCodeRevoke(user, name);
        stdout.line(`${user}: application code "${name}" revoked`);
      });
    });
  return appcode;
}
