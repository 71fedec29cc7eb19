import { TwostepError } from '../../core/errors.js';
import { limits } from '../../core/limits.js';
import type { LineReader } from '../shared/line-reader.js';

/** One backend reply: its code and the text of each line (after "250-" / "250 "). */
export interface SmtpReply {
  code: number;
  lines: string[];
}

/**
 * Reads one possibly multi-line reply (RFC 5321 §4.2.1): "ddd-text" lines, then "ddd text" (or a
 * bare "ddd"). Mixed codes, a malformed line or more than limits.smtpReplyLines lines throw
 * BACKEND_PROTOCOL; a closed connection throws the reader's error.
 */
export async function readSmtpReply(reader: LineReader): Promise<SmtpReply> {
  const lines: string[] = [];
  let code: number | undefined;
  for (;;) {
    const line = (await reader.readLine()).toString('utf8');
    const m = /^([2-5]\d\d)(?:([ -])(.*))?$/.exec(line);
    if (!m) throw new TwostepError('BACKEND_PROTOCOL', `malformed reply line: ${line.slice(0, 200)}`);
    const c = Number(m[1]);
    if (code !== undefined && c !== code) throw new TwostepError('BACKEND_PROTOCOL', 'reply codes differ within one reply');
    code = c;
    lines.push(m[3] ?? '');
    if (lines.length > limits.smtpReplyLines) throw new TwostepError('BACKEND_PROTOCOL', 'reply has too many lines');
    if (m[2] !== '-') return { code, lines };
  }
}

/** "421 4.3.2 text" as one short string for a log line. */
export function replyText(r: SmtpReply): string {
  return `${r.code} ${r.lines.join(' / ')}`.slice(0, 300);
}
