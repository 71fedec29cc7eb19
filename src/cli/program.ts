import { Command } from 'commander';
import { adminCommand } from './commands/admin-command.js';
import { appcodeCommand } from './commands/appcode-command.js';
import { auditCommand } from './commands/audit-command.js';
import { checkCommand } from './commands/check-command.js';
import { codesCommand } from './commands/codes-command.js';
import { disableCommand } from './commands/disable-command.js';
import { doctorCommand } from './commands/doctor-command.js';
import { domainCommand } from './commands/domain-command.js';
import { initCommand } from './commands/init-command.js';
import { serveCommand } from './commands/serve-command.js';
import { storeCommand } from './commands/store-command.js';
import { totpCommand } from './commands/totp-command.js';
import { userCommand } from './commands/user-command.js';

export function buildProgram(): Command {
  const program = new Command('twostep')
    .description('two-step authentication in front of Dovecot and Postfix')
    .option('-c, --config <file>', 'config file (default: $TWOSTEP_CONFIG, else config/twostep.toml)')
    .showSuggestionAfterError()
    .enablePositionalOptions(false);
  for (const sub of [
    serveCommand(),
    checkCommand(),
    initCommand(),
    userCommand(),
    domainCommand(),
    totpCommand(),
    appcodeCommand(),
    codesCommand(),
    disableCommand(),
    auditCommand(),
    adminCommand(),
    doctorCommand(),
    storeCommand(),
  ]) {
    program.addCommand(sub);
  }
  return program;
}
