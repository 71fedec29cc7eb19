import { limits } from '../core/limits.js';

/**
 * The client's self-description ("name version", as the proxy's IMAP ID gives it) from
 * Dovecot's %{client_id}: the IMAP ID pairs imap-login kept with imap_id_retain = yes, written
 * as quoted strings or NIL (`"name" "Thunderbird" "version" "115.1"`; Dovecot leaves out its
 * own x-originating-* keys). Undefined when there is no name or the text is not that shape.
 */
export function clientNameFromDovecotId(clientId: string): string | undefined {
  const fields = dovecotIdFields(clientId);
  if (fields === null) return undefined;
  const name = [fields.get('name'), fields.get('version')].filter((s) => s).join(' ');
  const clean = name.replace(/[\p{Cc}\p{Cf}]/gu, '').trim().slice(0, limits.clientNameChars);
  return clean === '' ? undefined : clean;
}

/** The ID pairs of %{client_id} (keys lower-cased; NIL values left out), or null when malformed. */
export function dovecotIdFields(clientId: string): Map<string, string> | null {
  const tokens = tokenize(clientId);
  if (tokens === null || tokens.length % 2 !== 0) return null;
  const fields = new Map<string, string>();
  for (let i = 0; i < tokens.length; i += 2) {
    const k = tokens[i];
    const v = tokens[i + 1];
    if (k === null || k === undefined) return null;
    if (typeof v === 'string') fields.set(k.toLowerCase(), v);
  }
  return fields;
}

/** Quoted strings (with \" and \\ escapes) and NIL (null), separated by single spaces. */
function tokenize(s: string): (string | null)[] | null {
  const out: (string | null)[] = [];
  let i = 0;
  while (i < s.length) {
    if (s.startsWith('NIL', i)) {
      out.push(null);
      i += 3;
    } else if (s[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        if (i >= s.length) return null;
        const c = s[i] as string;
        if (c === '"') break;
        if (c === '\\') {
          i++;
          if (i >= s.length) return null;
        }
        v += s[i];
        i++;
      }
      out.push(v);
      i++;
    } else {
      return null;
    }
    if (i < s.length) {
      if (s[i] !== ' ') return null;
      i++;
    }
  }
  return out;
}
