import { Command } from 'commander';
import { withPolicy } from '../context.js';
import { stdout } from '../output.js';

export function codesCommand(): Command {
  const codes = new Command('codes').description('one-time codes for when the phone is not at hand');
  codes
    .command('show <user>')
    .description('the unused one-time codes')
    .option('--json', 'machine-readable output')
    .action(async (user: string, opts: { json?: boolean }, cmd: Command) => {
      await withPolicy(cmd, async ({ policy }) => {
        const r = await policy.oneTimeCodesShow(user);
        if (opts.json) return stdout.json(r);
        stdout.line(`${user}: ${r.unused.length} unused one-time codes (${r.usedCount} used)`);
        for (const c of r.unused) stdout.line(c);
      });
    });
  codes
    .command('regenerate <user>')
    .description('replace all one-time codes with ten new ones')
    .action(async (user: string, _o, cmd: Command) => {
      await withPolicy(cmd, async ({ policy }) => {
        const fresh = await policy.oneTimeCodesRegenerate(user);
        stdout.line(`${user}: ten new one-time codes; the old ones no longer work:`);
        for (const c of fresh) stdout.line(c);
      });
    });
  return codes;
}
