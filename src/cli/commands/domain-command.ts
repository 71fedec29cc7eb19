import { Command } from 'commander';
import { withPolicy } from '../context.js';
import { stdout, table } from '../output.js';

const SWITCHES = {
  allow: { policy: 'allowed', text: 'users of the domain may turn on two-step authentication' },
  require: { policy: 'required', text: 'users of the domain must use two-step authentication (their mail keeps working until they set it up)' },
  disallow: { policy: 'disallowed', text: "two-step authentication not allowed for the domain's users (turns it off for those who follow the domain)" },
} as const;

/**
 * A domain's policy: the default of every user of the domain without a setting of their own
 * (`twostep user allow|require|disallow` sets one, `twostep user inherit` drops it).
 */
export function domainCommand(): Command {
  const domain = new Command('domain').description("a domain's two-step policy: the default of its users");
  for (const [verb, s] of Object.entries(SWITCHES)) {
    domain
      .command(`${verb} <domain>`)
      .description(s.text)
      .action(async (name: string, _o, cmd: Command) => {
        await withPolicy(cmd, async ({ policy }) => {
          const r = await policy.console.setDomainPolicy(name, s.policy);
          stdout.line(`${name.trim().toLowerCase()}: two-step authentication ${s.policy} for its users (${r.followers} accounts follow the domain${r.wiped > 0 ? `, ${r.wiped} turned off` : ''})`);
        });
      });
  }
  domain
    .command('clear <domain>')
    .description('the domain has no policy any more: its users without one of their own get the default (not offered)')
    .action(async (name: string, _o, cmd: Command) => {
      await withPolicy(cmd, async ({ policy }) => {
        const r = await policy.console.setDomainPolicy(name, null);
        stdout.line(`${name.trim().toLowerCase()}: no domain policy (${r.followers} accounts follow the default${r.wiped > 0 ? `, ${r.wiped} turned off` : ''})`);
      });
    });
  domain
    .command('list')
    .description('domains with a policy')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withPolicy(cmd, async ({ policy }) => {
        const list = await policy.console.listDomains();
        if (opts.json) return stdout.json(list);
        if (list.length === 0) return stdout.line('No domain has a policy.');
        for (const l of table(['Domain', 'Policy', 'Changed'], list.map((d) => [d.domain, d.policy, d.updatedAt]))) stdout.line(l);
      });
    });
  return domain;
}
