import { Command } from 'commander';
import { withPolicy } from '../context.js';
import { stdout } from '../output.js';

export function totpCommand(): Command {
  const totp = new Command('totp').description('authenticator app enrolment');
  totp
    .command('enroll <user>')
    .description('start enrolment: prints the key for manual entry and the otpauth:// URI for a QR code')
    .action(async (user: string, _o, cmd: Command) => {
      await withPolicy(cmd, async ({ policy }) => {
        const { key, uri } = await policy.totpEnroll(user);
        stdout.line(`key: ${key}`);
        stdout.line(`uri: ${uri}`);
      });
    });
  totp
    .command('confirm <user> <code>')
    .description('finish enrolment with a 6-digit code from the app; turns two-step authentication on')
    .action(async (user: string, code: string, _o, cmd: Command) => {
      await withPolicy(cmd, async ({ policy }) => {
        const { oneTimeCodes } = await policy.totpConfirm(user, code);
        stdout.line(`${user}: two-step authentication is on. One-time codes (each works once):`);
        for (const c of oneTimeCodes) stdout.line(c);
      });
    });
  return totp;
}
