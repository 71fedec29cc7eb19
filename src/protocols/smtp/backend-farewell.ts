import type { Readable } from 'node:stream';
import { smtpReply } from './responses.js';

/** Enough of the backend's tail to hold its last reply line. */
const TAIL_BYTES = 1024;

/**
 * Watches what the backend sends after AUTH and answers the splice's question "the backend is
 * gone: what does the client hear?". When the backend's last line was its own goodbye (221 after
 * QUIT, 421 on its timeout) the client has heard it: nothing. When the backend stopped between
 * replies (crash, dropped mid-DATA, killed): twostep's own 421 4.4.2, so the client queues the
 * message and retries instead of guessing. Mid-line, nothing: words there would be garbled.
 */
export function backendFarewell(backend: Readable): () => Buffer | undefined {
  let tail = Buffer.alloc(0);
  backend.on('data', (chunk: Buffer) => {
    tail = Buffer.concat([tail, chunk]);
    if (tail.length > TAIL_BYTES) tail = tail.subarray(tail.length - TAIL_BYTES);
  });
  return () => {
    if (tail.length > 0 && tail[tail.length - 1] !== 0x0a) return undefined;
    const lines = tail.toString('latin1').split(/\r?\n/);
    const last = lines[lines.length - 2] ?? '';
    if (/^(221|421)[ -]?/.test(last)) return undefined;
    return Buffer.from(`${smtpReply.backendLost}\r\n`);
  };
}
