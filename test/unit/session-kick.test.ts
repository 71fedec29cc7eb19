import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { KickingPolicy } from '../../src/verify/kicking-policy.js';
import { createSessionKicker } from '../../src/verify/session-kicker.js';
import { closeOpenedStores, enable2fa, MASTER_KEY, makeConfig, T0, trackStore } from '../helpers/policy-fixture.js';
import { openStore } from '../../src/store/index.js';

afterEach(() => closeOpenedStores());

/** A kick_command that appends its user argument to a file (argv, no shell expansion of the name). */
function recordingCommand(): { argv: string[]; kicked(): string[] } {
  const file = join(mkdtempSync(join(tmpdir(), 'twostep-kick-')), 'kicked');
  return {
    argv: ['/bin/sh', '-c', 'printf "%s\\n" "$1" >> "$0"', file, '{user}'],
    kicked: () => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []),
  };
}

async function kickingPolicy(argv: string[]) {
  const kicker = createSessionKicker(argv, silentLogger());
  const store = trackStore(await openStore(join(mkdtempSync(join(tmpdir(), 'twostep-kick-db-')), 'twostep.db')));
  const clock = { now: T0 };
  const policy = new KickingPolicy({ store, masterKey: MASTER_KEY, config: makeConfig(), logger: silentLogger(), clock: () => clock.now }, kicker);
  return { policy, kicker, clock };
}

describe('kick_command after a revoke', () => {
  it('runs for every change that ends application codes, in the process that made it', async () => {
    const rec = recordingCommand();
    const { policy, kicker, clock } = await kickingPolicy(rec.argv);
    const actor = { admin: 'root-admin', ip: '192.0.2.1' };
    await enable2fa(policy, clock, 'Alice');
    await policy.appCodeAdd('alice', 'Phone');
    await policy.appCodeRevoke('Alice', 'Phone');
    await policy.setAdminPolicy('carol', 'allowed'); // grants nothing, ends nothing: no kick
    await policy.setAdminPolicy('carol', 'disallowed');
    await policy.disable('alice');
    await enable2fa(policy, clock, 'dave');
    await policy.userDisable('dave');
    await enable2fa(policy, clock, 'erin');
    await policy.resetUser(actor, 'erin', { revokeAppCodes: false });
    await enable2fa(policy, clock, 'frank');
    await policy.consoleSetPolicy(actor, 'frank', 'disallowed');
    expect(await kicker.drain()).toEqual([]);
    expect(rec.kicked().sort()).toEqual(['alice', 'alice', 'carol', 'dave', 'erin', 'frank']);
  });

  it('a refused change kicks nobody', async () => {
    const rec = recordingCommand();
    const { policy, kicker } = await kickingPolicy(rec.argv);
    await expect(policy.appCodeRevoke('nobody', 'x')).rejects.toThrow();
    expect(await kicker.drain()).toEqual([]);
    expect(rec.kicked()).toEqual([]);
  });

  it('a failing command is reported by drain(), not thrown; the revoke holds', async () => {
    const kicker = createSessionKicker(['/bin/false', '{user}'], silentLogger());
    kicker.kick('alice');
    expect(await kicker.drain()).toEqual(['/bin/false for alice: exit status 1']);
    const missing = createSessionKicker(['/nonexistent/doveadm', 'kick', '{user}'], silentLogger());
    missing.kick('alice');
    expect((await missing.drain())[0]).toMatch(/^\/nonexistent\/doveadm for alice: ENOENT/);
  });

  it('never passes a user name that an option parser would take for an option', async () => {
    const rec = recordingCommand();
    const kicker = createSessionKicker(rec.argv, silentLogger());
    kicker.kick('-A');
    expect(await kicker.drain()).toEqual(['kick_command not run for user name "-A"']);
    expect(rec.kicked()).toEqual([]);
  });
});
