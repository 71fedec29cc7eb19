import { Command } from 'commander';
import { lookupBackendUser } from '../../checks/backend-user-lookup.js';
import { TwostepError } from '../../core/errors.js';
import { normalizeUsername } from '../../policy/index.js';
import { configOf, withPolicy } from '../context.js';
import { stdout, warn } from '../output.js';

/**
 * Before allow / require: does the mail server know this user? A typo ("alcie") stops with
 * exit 1 unless --force; a backend that cannot be asked only warns (the switch is still made).
 */
async function confirmBackendUser(cmd: Command, name: string, verb: string, force: boolean): Promise<void> {
  const found = await lookupBackendUser(configOf(cmd), normalizeUsername(name));
  if (found.verdict === 'known') return;
  if (found.verdict === 'unchecked') return warn(`could not check that the mail server knows ${name}: ${found.line}`);
  if (!force) throw new TwostepError('USER_NOT_FOUND', `${found.line} (a typo?); --force to ${verb} it anyway`);
  warn(`${found.line}; going on (--force)`);
}

const SWITCHES = {
  allow: 'allowed',
  require: 'required',
  disallow: 'disallowed',
} as const;

export function userCommand(): Command {
  const user = new Command('user').description('who may or must use two-step authentication');
  for (const [verb, state] of Object.entries(SWITCHES)) {
    const checked = verb !== 'disallow';
    const sub = user
      .command(`${verb} <user>`)
      .description(
        verb === 'allow'
          ? 'let the user turn on two-step authentication (checks that the mail server knows the user)'
          : verb === 'require'
            ? 'the user must use two-step authentication (checks that the mail server knows the user)'
            : 'two-step authentication not allowed (turns it off and deletes the user\'s codes)',
      );
    if (checked) sub.option('--force', 'go on even when the mail server does not know the user');
    sub.action(async (name: string, opts: { force?: boolean }, cmd: Command) => {
      if (checked) await confirmBackendUser(cmd, name, verb, !!opts.force);
      await withPolicy(cmd, async ({ policy }) => {
        await policy.setAdminPolicy(name, state);
        stdout.line(`${name}: two-step authentication ${state}`);
      });
    });
  }
  user
    .command('inherit <user>')
    .description("drop the user's own setting: the domain's policy (or the default) applies, and follows the domain")
    .action(async (name: string, _o, cmd: Command) => {
      await withPolicy(cmd, async ({ policy }) => {
        const r = await policy.console.followDomain(name);
        stdout.line(`${name}: two-step authentication ${r.policy} (${r.source === 'domain' ? "the domain's policy" : 'the default'})`);
      });
    });
  user
    .command('show <user>')
    .description('the policy that applies (and where from: user, domain or default), 2FA state and counts for one user')
    .option('--json', 'machine-readable output')
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      await withPolicy(cmd, async ({ policy }) => {
        const u = await policy.showUser(name);
        if (opts.json) return stdout.json(u);
        stdout.line(`user:              ${u.username}`);
        stdout.line(`admin policy:      ${u.adminPolicy} (${u.source === 'user' ? 'own setting' : u.source === 'domain' ? "the domain's" : 'default'})`);
        stdout.line(`two-step:          ${u.twofaState}`);
        stdout.line(`application codes: ${u.appCodes}`);
        stdout.line(`one-time codes:    ${u.oneTimeCodesUnused} unused`);
        stdout.line(`trusted devices:   ${u.trustedDevices}`);
      });
    });
  return user;
}
