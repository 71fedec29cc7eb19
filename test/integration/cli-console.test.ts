import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeTestConfig } from '../helpers/twostep-config.js';
import { runCli } from '../helpers/twostep-process.js';

/** `twostep domain ...`, `user inherit`, `user show` (source) and `audit --since --until --csv`. */

// About twenty CLI runs (a node start each): generous on a loaded 2-core machine.
describe('twostep domain, user inherit, audit --csv', { timeout: 180_000 }, () => {
  it('a domain policy applies to its users without one of their own; user show says where it comes from', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twostep-cli-console-'));
    const config = writeTestConfig({ dir, cert: { cert: 'unused.pem', key: 'unused.pem' }, backendImapPort: 1, listen: '', listenTls: '' });
    const cli = (...args: string[]) => runCli(['--config', config, ...args]);
    expect((await cli('user', 'show', 'new@corp.example')).code).toBe(1); // nothing applies: unknown
    const req = await cli('domain', 'require', 'Corp.Example');
    expect(req.code, req.stderr).toBe(0);
    expect(req.stdout).toBe('corp.example: two-step authentication required for its users (0 accounts follow the domain)\n');
    expect(JSON.parse((await cli('user', 'show', 'new@corp.example', '--json')).stdout)).toMatchObject({ adminPolicy: 'required', source: 'domain', twofaState: 'off', createdAt: null });
    expect((await cli('user', 'show', 'new@corp.example')).stdout).toContain("admin policy:      required (the domain's)");

    // Their own setting overrides the domain's (the mail server cannot be asked here: --force).
    expect((await cli('user', 'allow', 'boss@corp.example', '--force')).code).toBe(0);
    expect(JSON.parse((await cli('user', 'show', 'boss@corp.example', '--json')).stdout)).toMatchObject({ adminPolicy: 'allowed', source: 'user' });
    expect((await cli('user', 'inherit', 'boss@corp.example')).stdout).toBe("boss@corp.example: two-step authentication required (the domain's policy)\n");
    expect((await cli('domain', 'allow', 'corp.example')).stdout).toContain('(1 accounts follow the domain)');
    expect(JSON.parse((await cli('user', 'show', 'boss@corp.example', '--json')).stdout)).toMatchObject({ adminPolicy: 'allowed', source: 'domain' });
    expect(JSON.parse((await cli('domain', 'list', '--json')).stdout)).toMatchObject([{ domain: 'corp.example', policy: 'allowed' }]);
    expect((await cli('domain', 'clear', 'corp.example')).code).toBe(0);
    expect(JSON.parse((await cli('user', 'show', 'boss@corp.example', '--json')).stdout)).toMatchObject({ adminPolicy: 'disallowed', source: 'default' });
    expect((await cli('domain', 'list')).stdout).toBe('No domain has a policy.\n');
    expect((await cli('domain', 'require', 'not a domain')).stderr).toMatch(/^twostep: a domain is a name like example\.com/);

    // The audit as CSV, filtered by time and event.
    const csv = await cli('audit', '--since', '1h', '--event', 'domain', '--csv');
    expect(csv.code, csv.stderr).toBe(0);
    const lines = csv.stdout.split('\r\n');
    expect(lines[0]).toBe('time,user,event,protocol,ip,detail');
    expect(lines.slice(1, -1).map((l) => l.split(',')[2])).toEqual(['domain.policy', 'domain.policy', 'domain.policy']);
    expect(lines[lines.length - 1]).toBe('');
    expect(lines[1]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z,,domain\.policy,,,"\{""domain"":""corp\.example"",""policy"":null,""followers"":1,""wiped"":0\}"$/);
    expect((await cli('audit', '--until', '2000-01-01', '--csv')).stdout).toBe('time,user,event,protocol,ip,detail\r\n');
    expect((await cli('audit', '--since', 'last tuesday')).stderr).toMatch(/^twostep: not a time/);
    const both = await cli('audit', '--csv', '--json');
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/cannot be used with/);
    const table = await cli('audit', '--user', 'boss@corp.example', '--limit', '2');
    expect(table.stdout.split('\n').filter(Boolean)).toHaveLength(3); // header + 2
  });
});
