import { Command } from 'commander';
import { withPolicy } from '../context.js';
import { stdout } from '../output.js';

const SWITCHES = {
  allow: 'allowed',
  require: 'required',
  disallow: 'disallowed',
} as const;

export function userCommand(): Command {
  const user = new Command('user').description('who may or must use two-step authentication');
  for (const [verb, state] of Object.entries(SWITCHES)) {
    user
      .command(`${verb} <user>`)
      .description(
        verb === 'allow'
          ? 'let the user turn on two-step authentication'
          : verb === 'require'
            ? 'the user must use two-step authentication'
            : 'two-step authentication not allowed (turns it off and deletes the user\'s codes)',
      )
      .action(async (name: string, _opts, cmd: Command) => {
        await withPolicy(cmd, async ({ policy }) => {
          await policy.setAdminPolicy(name, state);
          stdout.line(`${name}: two-step authentication ${state}`);
        });
      });
  }
  user
    .command('show <user>')
    .description('admin policy, 2FA state and counts for one user')
    .option('--json', 'machine-readable output')
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      await withPolicy(cmd, async ({ policy }) => {
        const u = await policy.showUser(name);
        if (opts.json) return stdout.json(u);
        stdout.line(`user:              ${u.username}`);
        stdout.line(`admin policy:      ${u.adminPolicy}`);
        stdout.line(`two-step:          ${u.twofaState}`);
        stdout.line(`application codes: ${u.appCodes}`);
        stdout.line(`one-time codes:    ${u.oneTimeCodesUnused} unused`);
        stdout.line(`trusted devices:   ${u.trustedDevices}`);
      });
    });
  return user;
}
