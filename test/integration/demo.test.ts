import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

// The README's first command must work: run the demo in --check mode, which starts Dovecot and
// twostep, tries the printed curl lines and reports each.
it('npm run demo starts twostep in front of Dovecot and its printed curl lines behave as promised', async () => {
  const script = fileURLToPath(new URL('../../scripts/demo.mjs', import.meta.url));
  const out = await new Promise<{ code: number; text: string }>((resolve) => {
    execFile(process.execPath, [script, '--check'], { timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? 1 : 0, text: stdout + stderr }),
    );
  });
  expect(out.text).toMatch(/demo's application code:\s+[A-Z]{16}/);
  expect(out.text).toMatch(/check: ok\s+application code accepted/);
  expect(out.text).toMatch(/check: ok\s+main password refused/);
  expect(out.text).toMatch(/check: ok\s+account without 2FA passes through/);
  expect(out.text).toMatch(/check: ok\s+implicit TLS, lower-case code/);
  expect(out.text).toMatch(/check: ok\s+POP3 with the application code/);
  expect(out.code, out.text).toBe(0);
}, 90_000);
