import { randomBytes } from 'node:crypto';

/**
 * A short random id for one client connection, carried as `cid` on every log line of that
 * connection. 48 random bits: unique enough to grep a day of logs, short enough to read.
 */
export function newConnectionId(): string {
  return randomBytes(6).toString('base64url');
}
