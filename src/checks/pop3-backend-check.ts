import type { Config } from '../config/schema.js';
import { backendTarget } from '../config/runtime-config.js';
import { TwostepError } from '../core/errors.js';
import { limits } from '../core/limits.js';
import { readBackendReply } from '../protocols/pop3/read-backend-reply.js';
import { LineReader } from '../protocols/shared/line-reader.js';
import { connectUpstream, startUpstreamTls } from '../protocols/shared/upstream-connect.js';
import { withUpstreamDeadline } from '../protocols/shared/upstream-login-deadline.js';
import { backendFault } from './backend-error-line.js';
import { formatHostPort } from '../core/host-port.js';

/**
 * [pop3] backend greets (+OK), and takes STLS when backend_tls = "starttls"; then QUIT. The
 * master login itself is Dovecot's, already checked over IMAP.
 */
export async function checkPop3Backend(config: Config): Promise<string> {
  const pop3 = config.pop3;
  if (!pop3) throw new TwostepError('INTERNAL', 'no [pop3] section');
  const b = { key: 'pop3.backend', address: formatHostPort(pop3.backend) };
  const target = backendTarget(config, pop3.backend, pop3.backend_tls);
  try {
    await withUpstreamDeadline(limits.startupCheckMs, async (track, deadline) => {
      let socket = await connectUpstream(target, Math.min(limits.backendConnectMs, deadline - Date.now()));
      track(socket);
      socket.on('error', () => {});
      let reader = new LineReader(socket, { maxLineBytes: limits.backendLineBytes });
      const greeting = await readBackendReply(reader);
      if (greeting.kind !== 'ok') throw new TwostepError('BACKEND_UNAVAILABLE', `greeting: -ERR ${greeting.text.slice(0, 200)}`);
      if (target.tls === 'starttls') {
        socket.write('STLS\r\n');
        if ((await readBackendReply(reader)).kind !== 'ok') throw new TwostepError('TLS_FAILED', 'the backend refused STLS');
        reader.detach();
        socket = await startUpstreamTls(socket, target, Math.max(1, deadline - Date.now()));
        track(socket);
        socket.on('error', () => {});
        reader = new LineReader(socket, { maxLineBytes: limits.backendLineBytes });
      }
      reader.detach();
      socket.resume();
      socket.end('QUIT\r\n');
      setTimeout(() => socket.destroy(), limits.closeLingerMs).unref();
      return { ok: true };
    });
  } catch (err) {
    throw backendFault(b, err, 'pop3.backend_tls and backend.ca / backend.servername');
  }
  return `${b.key} ${b.address}: greets${target.tls === 'none' ? '' : ' over TLS'}`;
}
