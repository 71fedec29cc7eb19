import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

// The README's first command must work: run the demo in --check mode, which starts Dovecot,
// Postfix and twostep (IMAP, POP3, SMTP, portal) on free ports, runs the printed lines and walks
// the portal's sign-in, and reports each.
it('npm run demo starts the whole product and its printed lines behave as promised', async () => {
  const script = fileURLToPath(new URL('../../scripts/demo.mjs', import.meta.url));
  const out = await new Promise<{ code: number; text: string }>((resolve) => {
    execFile(process.execPath, [script, '--check'], { timeout: 90_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? 1 : 0, text: stdout + stderr }),
    );
  });
  expect(out.text).toMatch(/application code \(the password for mail apps\): [A-Z]{16}/);
  expect(out.text).toMatch(/Admin console http:\/\/127\.0\.0\.1:\d+\/admin: admin \/ \S{12,}\n\s+authenticator key:\s+[A-Z2-7]{16,}/);
  for (const line of [/curl .*imap:\/\//, /curl .*imaps:\/\//, /curl .*pop3:\/\//, /swaks --server/]) expect(out.text).toMatch(line);
  for (const check of [
    'IMAP: application code accepted',
    'IMAP: main password refused',
    'IMAP: account without 2FA passes through',
    'IMAP: implicit TLS, lower-case code',
    'POP3: application code reads message 1',
    'SMTP: mail sent with the application code',
    'SMTP: mail arrived, read back over IMAP',
    'SMTP: main password refused',
    'portal: sign-in page, email + password, one-time code',
    'admin console: name + password + code, then the next code proves the new key',
  ]) {
    expect(out.text).toContain(`check: ok   ${check}`);
  }
  expect(out.text).not.toContain('check: FAIL');
  expect(out.code, out.text).toBe(0);
}, 120_000);
