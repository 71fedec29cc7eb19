import { readFileOrConfigError, readPasswordFile } from '../config/runtime-config.js';
import type { NotifyConfig } from '../config/notify-schema.js';
import { domainOf } from '../core/mail-address.js';
import type { SubmitTarget } from './smtp-submit.js';

/** The mail server of [notify], its CA and login read now (a missing file is a config error naming the key). */
export function noticeTarget(n: NotifyConfig): SubmitTarget {
  const t: SubmitTarget = { host: n.smtp.host, port: n.smtp.port, tls: n.smtp_tls, helo: domainOf(n.from) ?? 'localhost' };
  if (n.smtp_ca) t.ca = readFileOrConfigError('notify.smtp_ca', n.smtp_ca);
  if (n.smtp_user && n.smtp_password_file) t.login = { user: n.smtp_user, password: readPasswordFile('notify.smtp_password_file', n.smtp_password_file) };
  return t;
}
