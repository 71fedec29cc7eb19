import { Command } from 'commander';
import { withPolicy } from '../context.js';
import { shortTime } from '../format.js';
import { stdout, table } from '../output.js';

export function appcodeCommand(): Command {
  const appcode = new Command('appcode').description('application codes: passwords for mail apps');
  appcode
    .command('add <user> <name>')
    .description('create an application code; printed once, alone on the last line')
    .action(async (user: string, name: string, _o, cmd: Command) => {
      await withPolicy(cmd, async ({ policy }) => {
        const created = await policy.appCodeAdd(user, name);
        stdout.line(`Application code for ${user} (${created.name}); enter it as the password in that app:`);
        stdout.line(created.code);
      });
    });
  appcode
    .command('list <user>')
    .description('Name, Created, Last Used (time, IP, protocol, client)')
    .option('--json', 'machine-readable output')
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
          c.lastUsedClient ?? '-',
        ]);
        for (const l of table(['Name', 'Created', 'Last Used', 'IP', 'Protocol', 'Client'], rows)) stdout.line(l);
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
