// The demo's ports: fixed, documented ones for `npm run demo` (the README shows them), free ones
// for `--check` (the test suite runs it beside other tests, and maybe beside a running demo).
import net from 'node:net';
import { freePorts } from '../test/helpers/ports.mjs';

/** What `npm run demo` listens on, all on 127.0.0.1. The backends take free ports. */
export const DEMO_PORTS = {
  imap: { port: 1143, what: 'twostep IMAP (STARTTLS)' },
  imaps: { port: 1993, what: 'twostep IMAP (implicit TLS)' },
  pop3: { port: 1110, what: 'twostep POP3 (STLS)' },
  pop3s: { port: 1995, what: 'twostep POP3 (implicit TLS)' },
  smtp: { port: 1587, what: 'twostep SMTP submission (STARTTLS)' },
  smtps: { port: 1465, what: 'twostep SMTP submission (implicit TLS)' },
  portal: { port: 8080, what: 'twostep web portal (HTTP)' },
};

/** Resolves true when 127.0.0.1:port can be bound right now. */
function isFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ host: '127.0.0.1', port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/**
 * { imap: 1143, ... }: the fixed ports, or (fixed = false) free ones. A taken fixed port is an
 * error naming every taken port and what it was for.
 * @param {boolean} fixed
 * @returns {Promise<Record<keyof typeof DEMO_PORTS, number>>}
 */
export async function demoPorts(fixed) {
  const names = Object.keys(DEMO_PORTS);
  if (!fixed) {
    const ports = await freePorts(names.length);
    return Object.fromEntries(names.map((n, i) => [n, ports[i]]));
  }
  const taken = [];
  for (const n of names) if (!(await isFree(DEMO_PORTS[n].port))) taken.push(`  127.0.0.1:${DEMO_PORTS[n].port}  ${DEMO_PORTS[n].what}`);
  if (taken.length > 0) {
    throw new Error(
      `the demo's fixed port${taken.length > 1 ? 's are' : ' is'} in use:\n${taken.join('\n')}\n` +
        'Is another demo (or a twostep serve) running? Stop it (Ctrl-C in its terminal), or find the process with `ss -ltnp`.',
    );
  }
  return Object.fromEntries(names.map((n) => [n, DEMO_PORTS[n].port]));
}
