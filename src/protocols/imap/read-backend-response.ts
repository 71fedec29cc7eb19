import { TwostepError } from '../../core/errors.js';
import { limits } from '../../core/limits.js';
import type { LineReader } from '../shared/line-reader.js';

export type BackendResponse =
  | { kind: 'tagged'; status: 'OK' | 'NO' | 'BAD'; text: string }
  | { kind: 'continuation'; text: string };

const LITERAL_AT_END = /\{(\d{1,10})\+?\}$/;

/**
 * Reads backend lines until the tagged reply for `tag` or a "+" continuation. Untagged lines
 * (with any literals folded in) go to onUntagged. "* BYE" before the tagged reply, or anything
 * unparsable, is a protocol error.
 */
export async function readBackendResponse(
  reader: LineReader,
  tag: string,
  onUntagged: (line: string) => void = () => {},
): Promise<BackendResponse> {
  for (;;) {
    const line = (await reader.readLine()).toString('utf8');
    if (line.startsWith('+')) return { kind: 'continuation', text: line.slice(1).trim() };
    if (line.startsWith('* ')) {
      let full = line;
      for (let m = LITERAL_AT_END.exec(full); m; m = LITERAL_AT_END.exec(full)) {
        const size = Number(m[1]);
        if (size > limits.backendLineBytes) throw new TwostepError('BACKEND_PROTOCOL', 'backend literal too big');
        full += (await reader.readBytes(size)).toString('utf8') + (await reader.readLine()).toString('utf8');
      }
      if (/^\* BYE\b/i.test(full)) throw new TwostepError('BACKEND_PROTOCOL', `backend said: ${full.slice(0, 200)}`);
      onUntagged(full);
      continue;
    }
    if (line.startsWith(`${tag} `)) {
      const m = /^(OK|NO|BAD)\b ?(.*)$/i.exec(line.slice(tag.length + 1));
      if (!m) throw new TwostepError('BACKEND_PROTOCOL', `bad tagged reply: ${line.slice(0, 200)}`);
      return { kind: 'tagged', status: (m[1] as string).toUpperCase() as 'OK' | 'NO' | 'BAD', text: m[2] as string };
    }
    throw new TwostepError('BACKEND_PROTOCOL', `unexpected backend line: ${line.slice(0, 200)}`);
  }
}

/** The capability list inside a "[CAPABILITY ...]" response code, if any. */
export function capabilityCode(text: string): string | null {
  const m = /^\[CAPABILITY ([^\]]*)\]/i.exec(text);
  return m ? (m[1] as string).trim() : null;
}
