import { Command } from 'commander';
import { withPolicy } from '../context.js';
import { stdout } from '../output.js';

export function disableCommand(): Command {
  return new Command('disable')
    .argument('<user>')
    .description('turn two-step authentication off for a user (revokes codes and trusted devices)')
    .action(async (user: string, _o, cmd: Command) => {
      await withPolicy(cmd, async ({ policy }) => {
        await policy.disable(user);
        stdout.line(`${user}: two-step authentication is off; the main password works again`);
      });
    });
}
