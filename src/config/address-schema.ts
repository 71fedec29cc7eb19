import { z } from 'zod';
import { type HostPort, splitHostPort } from '../core/host-port.js';

/**
 * Address keys are parsed once, here, into { host, port } (core/host-port.ts has the grammar):
 * "host:port", IPv6 as "[::1]:port", port 1-65535; the message names the kind of address. A
 * listener may also be '' (off), null once parsed. Defaults go through the same parse.
 */
export function toAddress(text: string, ctx: z.RefinementCtx, kind: 'listen' | 'backend' | 'mail server', example: string): HostPort {
  const a = splitHostPort(text);
  if (a && a.port >= 1 && a.port <= 65535) return a;
  ctx.addIssue({ code: 'custom', message: a ? 'port must be 1-65535' : `must be "host:port" for a ${kind} address, e.g. "${example}"` });
  return z.NEVER;
}

export const address = (kind: 'listen' | 'backend' | 'mail server', defaultText: string) =>
  z.string().transform((text, ctx) => toAddress(text, ctx, kind, defaultText)).prefault(defaultText);

export const optionalListen = (defaultText: string) =>
  z.string().transform((text, ctx) => (text === '' ? null : toAddress(text, ctx, 'listen', defaultText))).prefault(defaultText);

export const backendTls = z.enum(['none', 'starttls', 'tls']);
