import type { AuditEntry } from './policy-results.js';

/**
 * The audit log as CSV (RFC 4180: comma-separated, CRLF line ends, quoted where needed), for the
 * console's export and `twostep audit --csv`: time, user, event, protocol, ip, detail (JSON).
 *
 * User names and client names come from whoever tried to log in: a cell that a spreadsheet would
 * read as a formula (starting with = + - @, a tab or CR) is written with a leading apostrophe,
 * so opening the export never runs what an attacker typed as a user name (OWASP, CSV injection).
 */
export const AUDIT_CSV_HEADER = 'time,user,event,protocol,ip,detail\r\n';

function cell(value: string | null): string {
  if (value === null) return '';
  const v = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n']/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function auditCsvLine(e: AuditEntry): string {
  return `${[e.at, e.user, e.event, e.protocol, e.ip, JSON.stringify(e.detail)].map(cell).join(',')}\r\n`;
}
