import { Command } from 'commander';
import type { Config } from '../../config/schema.js';
import { isTwostepError, TwostepError } from '../../core/errors.js';
import { examineDoors } from '../../doctor/examine-doors.js';
import type { Finding } from '../../doctor/finding.js';
import { twostepSide } from '../../doctor/twostep-side.js';
import { clientSettings } from '../../config/client-settings.js';
import { dnsRecords } from '../../doctor/dns-records.js';
import { configOf } from '../context.js';
import { stdout, table } from '../output.js';

const STATUS: Record<Finding['status'], string> = { guarded: 'guarded', ok: 'ok', open: 'OPEN', warn: 'check' };

export function doctorCommand(): Command {
  return new Command('doctor')
    .description('every service on this host that takes passwords, and whether twostep guards it; exit status 1 when a door is open')
    .option('--dovecot-config <file>', "Dovecot's configuration file (default: the system's, read with doveconf -n)")
    .option('--postfix-config <dir>', "Postfix's configuration directory (default: the system's, read with postconf -n and -M)")
    .action(async (opts: { dovecotConfig?: string; postfixConfig?: string }, cmd: Command) => {
      let config: Config | null = null;
      try {
        config = configOf(cmd);
      } catch (err) {
        if (!isTwostepError(err, 'CONFIG_NOT_FOUND')) throw err;
      }
      const side = await twostepSide(config);
      const findings = await examineDoors(opts, side);
      stdout.line(`twostep connects from ${side.addresses.join(', ')}${config ? '' : ' (no twostep configuration found: assumed)'}`);
      stdout.line();
      const rows = findings.map((f) => [f.item, STATUS[f.status], f.detail]);
      for (const l of table(['Door or check', 'Status', 'Detail'], rows)) stdout.line(l);
      const open = findings.filter((f) => f.status === 'open');
      printDnsRecords(config);
      stdout.line();
      if (open.length === 0) {
        stdout.line('No open door: every password login is put to twostep.');
        return;
      }
      throw new TwostepError('BAD_STATE', `${open.length} open: ${open.map((f) => f.item).join(', ')}`);
    });
}

/** [clients]' DNS records (RFC 6186 SRV, autoconfig., autodiscover.), for the admin to publish. */
function printDnsRecords(config: Config | null): void {
  const clients = config ? clientSettings(config) : undefined;
  stdout.line();
  if (!clients) {
    stdout.line('No [clients] section: mail apps are not told how to set themselves up (no DNS records to publish).');
    return;
  }
  stdout.line('DNS records to publish, so that mail apps set themselves up ([clients]):');
  for (const l of dnsRecords(clients)) stdout.line(`  ${l}`);
}
