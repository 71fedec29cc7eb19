import { TwostepError } from './errors.js';

export interface HostPort {
  host: string;
  port: number;
}

/** Parses "host:port" or "[v6]:port"; port 0 (ephemeral) is allowed for tests. */
export function parseHostPort(value: string): HostPort {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new TwostepError('CONFIG_INVALID', `listen address must be "host:port", got "${value}"`);
  }
  return { host: (m[1] ?? m[2]) as string, port };
}
