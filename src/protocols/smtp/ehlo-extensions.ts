/**
 * The backend's EHLO keywords twostep passes on to clients: the ones that describe mail
 * transfer, which the splice carries unchanged after AUTH. Never AUTH, STARTTLS (twostep's own),
 * XCLIENT or XFORWARD (trust between twostep and Postfix only), nor VRFY/ETRN (not offered before AUTH).
 */
const PASSED_ON = new Set(['SIZE', '8BITMIME', 'SMTPUTF8', 'PIPELINING', 'DSN', 'ENHANCEDSTATUSCODES', 'CHUNKING']);

/** Keyword and parameters as RFC 5321 §4.1.1.1 writes them (ehlo-line); anything else is dropped. */
const EHLO_LINE = /^([A-Za-z0-9][A-Za-z0-9-]*)((?: [\x21-\x7e]+)*)$/;

/** The lines of the backend's EHLO reply (without the first, the host name) that clients may see. */
export function passedOnExtensions(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (const line of lines.slice(1)) {
    const m = EHLO_LINE.exec(line.trim());
    if (!m) continue;
    const keyword = (m[1] as string).toUpperCase();
    if (!PASSED_ON.has(keyword)) continue;
    if (keyword === 'SIZE' && !/^( \d{1,15})?$/.test(m[2] as string)) continue;
    if (keyword !== 'SIZE' && m[2]) continue;
    out.push(`${keyword}${m[2]}`);
  }
  return out;
}

/** The keywords (upper case) and their parameters from a backend EHLO reply, for the login exchange. */
export function extensionMap(lines: readonly string[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const [keyword, ...params] = line.trim().split(/\s+/);
    if (keyword) map.set(keyword.toUpperCase(), params.map((p) => p.toUpperCase()));
  }
  return map;
}

export interface EhloInput {
  host: string;
  /** Passed-on backend extensions, or null when the backend could not be asked. */
  backend: readonly string[] | null;
  /** STARTTLS can still be offered (plaintext listener, not yet upgraded). */
  starttls: boolean;
  /** AUTH can be offered (TLS now, or allow_plaintext). */
  auth: boolean;
}

/** The text lines of twostep's EHLO reply: host, backend extensions, then its own STARTTLS and AUTH. */
export function ehloLines(i: EhloInput): string[] {
  const lines = [i.host, ...(i.backend ?? [])];
  if (i.starttls) lines.push('STARTTLS');
  if (i.auth) lines.push('AUTH PLAIN LOGIN');
  return lines;
}
