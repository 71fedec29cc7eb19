import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { runCli } from '../helpers/twostep-process.js';

/** `twostep init` and `twostep doctor` print the DNS records mail apps look up (issue 15 part 1). */
describe('DNS records for mail apps, from the CLI', { timeout: 60_000 }, () => {
  it('init --mail-host --domain writes [clients] and prints its records; doctor prints them too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twostep-dns-'));
    const config = join(dir, 'twostep.toml');
    const init = await runCli(['--config', config, 'init', '--data-dir', join(dir, 'data'), '--mail-host', 'mail.example.com', '--domain', 'example.com', '--no-cert']);
    expect(init.code, init.stderr).toBe(0);
    expect(parseConfig(readFileSync(config, 'utf8')).clients).toMatchObject({ host: 'mail.example.com', domains: ['example.com'] });
    for (const line of [
      '_imaps._tcp.example.com. 3600 IN SRV 0 1 993 mail.example.com.',
      '_submissions._tcp.example.com. 3600 IN SRV 0 1 465 mail.example.com.',
      '_pop3s._tcp.example.com. 3600 IN SRV 0 0 0 .',
      'autoconfig.example.com. 3600 IN CNAME mail.example.com.',
      'autodiscover.example.com. 3600 IN CNAME mail.example.com.',
    ]) {
      expect(init.stdout).toContain(`  ${line}\n`);
    }
    // doctor reads no Dovecot or Postfix here (their doors are "OPEN"), and prints the records all the same.
    const doctor = await runCli(['--config', config, 'doctor', '--dovecot-config', join(dir, 'none'), '--postfix-config', join(dir, 'none')]);
    expect(doctor.stdout).toContain('DNS records to publish, so that mail apps set themselves up ([clients]):');
    expect(doctor.stdout).toContain('  _imaps._tcp.example.com. 3600 IN SRV 0 1 993 mail.example.com.\n');

    // Without the options: example records, said to be examples.
    const plain = join(dir, 'plain.toml');
    const bare = await runCli(['--config', plain, 'init', '--data-dir', join(dir, 'data2'), '--no-cert']);
    expect(bare.stdout).toContain('DNS records to publish once [clients] names your mail host (example names');
    expect(bare.stdout).toContain('_imaps._tcp.example.com. 3600 IN SRV 0 1 993 mail.example.com.');
  });
});
