import { TwostepError } from '../../core/errors.js';
import type { LineReader } from '../shared/line-reader.js';

export type Pop3BackendReply =
  | { kind: 'ok'; text: string }
  | { kind: 'err'; text: string; code: string | undefined }
  /** A SASL continuation ("+ " + base64). */
  | { kind: 'continuation'; text: string };

/** Reads one single-line backend reply (+OK / -ERR [CODE] / "+ "); anything else is a protocol error. */
export async function readBackendReply(reader: LineReader): Promise<Pop3BackendReply> {
  const line = (await reader.readLine()).toString('utf8');
  const okMatch = /^\+OK\b ?(.*)$/i.exec(line);
  if (okMatch) return { kind: 'ok', text: okMatch[1] as string };
  const errMatch = /^-ERR\b ?(?:\[([^\]]*)\] ?)?(.*)$/i.exec(line);
  if (errMatch) return { kind: 'err', code: errMatch[1]?.toUpperCase(), text: errMatch[2] as string };
  if (line === '+' || line.startsWith('+ ')) return { kind: 'continuation', text: line.slice(2) };
  throw new TwostepError('BACKEND_PROTOCOL', `unexpected backend line: ${line.slice(0, 200)}`);
}
