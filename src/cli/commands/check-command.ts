import { Command } from 'commander';
import { backendChecks } from '../../checks/backend-checks.js';
import { checkFiles } from '../../checks/file-checks.js';
import { configOf, configPathOf } from '../context.js';
import { stdout } from '../output.js';

export function checkCommand(): Command {
  return new Command('check')
    .description("check what serve needs before it starts: config, files, certificates, backends and the master login (run as serve's user)")
    .action(async (_o, cmd: Command) => {
      const config = configOf(cmd);
      stdout.line(`ok    config ${configPathOf(cmd)}`);
      const { lines, master } = checkFiles(config);
      for (const l of lines) stdout.line(`${l.status.padEnd(5)} ${l.text}`);
      // Once each, in order; the first failure is thrown as its one line (exit 2 for a setting, 1 for a backend down).
      for (const check of backendChecks(config, master)) stdout.line(`ok    ${await check.run()}`);
    });
}
