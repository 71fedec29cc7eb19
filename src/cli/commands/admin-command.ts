import { Command } from 'commander';
import { withPolicy } from '../context.js';
import { stdout } from '../output.js';
import { readNewPassword } from '../read-password.js';

function printTotp(name: string, t: { key: string; uri: string }): void {
  stdout.line(`Admin ${name}: enter this key in an authenticator app (admins sign in with password and code).`);
  stdout.line(`key: ${t.key}`);
  stdout.line(`uri: ${t.uri}`);
  stdout.line('The first console sign-in with this key asks for one more code (the next one the app shows) before anything else works.');
}

/** Admin console accounts: separate from mail users, password + TOTP (shown once here). */
export function adminCommand(): Command {
  const admin = new Command('admin').description('admin console accounts (password + authenticator app)');
  admin
    .command('add <name>')
    .description('new admin; password from --password-file, standard input, or a prompt (never the command line)')
    .option('--password-file <file>', 'read the password from the first line of this file')
    .action(async (name: string, opts: { passwordFile?: string }, cmd: Command) => {
      const password = await readNewPassword(opts);
      await withPolicy(cmd, async ({ policy }) => printTotp(name, await policy.admins.add(name, password)));
    });
  admin
    .command('password <name>')
    .description("change an admin's password (same sources as add)")
    .option('--password-file <file>', 'read the password from the first line of this file')
    .action(async (name: string, opts: { passwordFile?: string }, cmd: Command) => {
      const password = await readNewPassword(opts);
      await withPolicy(cmd, async ({ policy }) => {
        await policy.admins.setPassword(name, password);
        stdout.line(`Admin ${name}: password changed.`);
      });
    });
  admin
    .command('reset-totp <name>')
    .description('new authenticator key for an admin (lost phone); signs the admin out everywhere')
    .action(async (name: string, _o, cmd: Command) => {
      await withPolicy(cmd, async ({ policy }) => printTotp(name, await policy.admins.resetTotp(name)));
    });
  admin
    .command('remove <name>')
    .description('delete an admin account')
    .action(async (name: string, _o, cmd: Command) => {
      await withPolicy(cmd, async ({ policy }) => {
        await policy.admins.remove(name);
        stdout.line(`Admin ${name}: removed.`);
      });
    });
  admin
    .command('list')
    .description('admin accounts')
    .action(async (_o, cmd: Command) => {
      await withPolicy(cmd, async ({ policy }) => {
        for (const a of await policy.admins.list()) {
          stdout.line(`${a.name}  created ${a.createdAt.slice(0, 10)}${a.confirmed ? '' : '  authenticator not confirmed yet'}`);
        }
      });
    });
  return admin;
}
