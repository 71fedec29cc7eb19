import { TwostepError } from './errors.js';

export interface HostPort {
  host: string;
  port: number;
}

const HOST_PORT = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/;

/**
 * The one grammar of an address in the config: "host:port", IPv6 as "[::1]:port", the port one
 * to five digits. Null when the text is not of that shape; the port's range is the caller's to
 * check (the config schema wants 1-65535; tests listen on 0, any free port).
 */
export function splitHostPort(value: string): HostPort | null {
  const m = HOST_PORT.exec(value);
  return m ? { host: (m[1] ?? m[2]) as string, port: Number(m[3]) } : null;
}

/** "host:port", with brackets around an IPv6 host: for log lines, and for the portal (below). */
export function formatHostPort(a: HostPort): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/**
 * splitHostPort or a CONFIG_INVALID error. Only the portal still takes its listen address as
 * text (src/portal moves to the schema's parsed value with its next rework); nothing else
 * parses an address after the config schema did.
 */
export function parseHostPort(value: string): HostPort {
  const a = splitHostPort(value);
  if (!a || a.port > 65535) throw new TwostepError('CONFIG_INVALID', `listen address must be "host:port", got "${value}"`);
  return a;
}
