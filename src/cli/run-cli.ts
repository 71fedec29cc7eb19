import { type Command, CommanderError } from 'commander';
import { isTwostepError } from '../core/errors.js';
import { processIo, runWithIo, sayError, type CliIo } from './output.js';
import { buildProgram } from './program.js';
import { usageErrorLine } from './usage-error-line.js';

/**
 * Exit codes: 0 ok, 1 the command failed, 2 bad configuration or usage. `io` is where the run
 * reads and writes (the process's streams by default; a test passes its own and reads them back).
 */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  return runWithIo(io, async () => {
    const program = buildProgram();
    // Commander's usage errors become one "twostep: ..." line and exit code 2 instead of exiting.
    const override = (cmd: Command): void => {
      cmd.exitOverride();
      cmd.configureOutput({ writeOut: io.out, writeErr: io.err, outputError: (text, write) => write(usageErrorLine(text)) });
      for (const sub of cmd.commands) override(sub);
    };
    override(program);
    try {
      await program.parseAsync(argv, { from: 'user' });
      return 0;
    } catch (err) {
      if (err instanceof CommanderError) {
        if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return 0;
        return 2;
      }
      if (isTwostepError(err)) {
        sayError(err.message);
        return err.code === 'CONFIG_INVALID' || err.code === 'CONFIG_NOT_FOUND' ? 2 : 1;
      }
      sayError(`internal error: ${err instanceof Error ? err.message : String(err)}`);
      return 1;
    }
  });
}
