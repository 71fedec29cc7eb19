import { limits } from '../../core/limits.js';
import type { ImapArg } from './imap-command.js';

/**
 * The client's self-description from `ID (...)`: "name version", without control characters,
 * at most limits.clientNameChars. Returns undefined for `ID NIL` or no name, null when the
 * arguments are not a valid ID list (RFC 2971: NIL or a list of string/NIL pairs).
 */
export function clientNameFromId(args: ImapArg[]): string | undefined | null {
  if (args.length !== 1) return null;
  const [arg] = args as [ImapArg];
  if (arg.kind === 'nil') return undefined;
  if (arg.kind !== 'list' || arg.items.length % 2 !== 0 || arg.items.length > 60) return null;
  const fields = new Map<string, string>();
  for (let i = 0; i < arg.items.length; i += 2) {
    const k = arg.items[i] as ImapArg;
    const v = arg.items[i + 1] as ImapArg;
    if (k.kind !== 'string' || (v.kind !== 'string' && v.kind !== 'nil')) return null;
    if (v.kind === 'string') fields.set(k.value.toLowerCase(), v.value);
  }
  const name = [fields.get('name'), fields.get('version')].filter((s) => s).join(' ');
  const clean = name.replace(/[\p{Cc}\p{Cf}]/gu, '').trim().slice(0, limits.clientNameChars);
  return clean === '' ? undefined : clean;
}
