import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { Secret } from '../../src/core/secret.js';
import type { Authenticator } from '../../src/policy/index.js';
import { PasswordCheckPasses } from '../../src/verify/password-check-passes.js';
import { answerVerify } from '../../src/verify/verify-decision.js';
import type { VerifyRequest } from '../../src/verify/verify-protocol.js';

const refuseAll: Authenticator = { authenticate: async () => ({ ok: false, reason: 'app-code-required' }) };
const request = (user: string, clientId: string): VerifyRequest => ({
  user,
  password: new Secret('main-password'),
  service: 'imap',
  rip: '198.51.100.7',
  rport: 1,
  lip: '127.0.0.1',
  secured: 'secured',
  clientId,
  mech: 'PLAIN',
  session: 's',
});
const idWith = (pass: string) => `"name" "twostep portal" "x-twostep-check" "${pass}"`;

describe("the portal's one-time password-check passes", () => {
  it('a live pass for that user: NEXT (Dovecot judges the main password), once', async () => {
    const passes = new PasswordCheckPasses();
    const pass = passes.issue('Alice');
    expect(await answerVerify(refuseAll, request('alice', idWith(pass)), silentLogger(), passes)).toEqual({ kind: 'next' });
    // Used: the same pass again is an ordinary login, decided by the policy.
    expect(await answerVerify(refuseAll, request('alice', idWith(pass)), silentLogger(), passes)).toEqual({ kind: 'fail', reason: 'app-code-required' });
  });

  it('a forged, foreign or lapsed pass counts for nothing', async () => {
    let now = 1_000_000;
    const passes = new PasswordCheckPasses(() => now);
    expect(await answerVerify(refuseAll, request('alice', idWith('forged-pass-value')), silentLogger(), passes)).toMatchObject({ kind: 'fail' });
    const bobs = passes.issue('bob');
    expect(await answerVerify(refuseAll, request('alice', idWith(bobs)), silentLogger(), passes)).toMatchObject({ kind: 'fail' });
    expect(passes.redeem('bob', bobs)).toBe(false); // spent by the attempt above
    const late = passes.issue('alice');
    now += 60_000;
    expect(await answerVerify(refuseAll, request('alice', idWith(late)), silentLogger(), passes)).toMatchObject({ kind: 'fail' });
    // Without passes (another process), the same ID changes nothing.
    const p = new PasswordCheckPasses().issue('alice');
    expect(await answerVerify(refuseAll, request('alice', idWith(p)), silentLogger())).toMatchObject({ kind: 'fail' });
  });
});
