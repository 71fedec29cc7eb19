// Hooks for bench/lib/memory-variants.mjs: modules a Node child loads with --import before
// twostep (or the comparison server) starts, each changing one thing about its TLS sockets
// without touching src/. Both import `tls` from 'node:tls' and call tls.createSecureContext and
// new tls.TLSSocket through that object, so replacing the properties here reaches them.
import fs from 'node:fs';
import path from 'node:path';

const HOOKS = {
  // TLS without tickets: OpenSSL then issues no stateless ticket (TLS 1.3 falls back to a session
  // id nobody caches: Node turns OpenSSL's internal cache off), so no client can resume.
  'no-ticket': `import tls from 'node:tls'; import { constants } from 'node:crypto';
const orig = tls.createSecureContext;
tls.createSecureContext = (o = {}) => orig({ ...o, secureOptions: (o.secureOptions ?? 0) | constants.SSL_OP_NO_TICKET });
`,
  // SSL_MODE_RELEASE_BUFFERS is an SSL mode, not an option: secureOptions goes to
  // SSL_CTX_set_options. Passing its bit (0x10) there sets whatever option has that bit.
  'release-buffers-bit': `import tls from 'node:tls';
const orig = tls.createSecureContext;
tls.createSecureContext = (o = {}) => orig({ ...o, secureOptions: (o.secureOptions ?? 0) | 0x10 });
`,
  // Server sessions: no server-side session lifetime (SSL_CTX_set_timeout 0 via the context's
  // setSessionTimeout, as tls.Server's sessionTimeout does).
  'session-timeout-0': `import tls from 'node:tls';
const orig = tls.createSecureContext;
tls.createSecureContext = (o = {}) => { const c = orig(o); c.context.setSessionTimeout(0); return c; };
`,
  // Records of at most 1 KiB (OpenSSL's write buffer is sized by the send fragment).
  'send-fragment-1k': `import tls from 'node:tls';
const Orig = tls.TLSSocket;
tls.TLSSocket = class extends Orig { constructor(s, o) { super(s, o); if (o?.isServer) this.setMaxSendFragment(1024); } };
`,
  // Server TLS over a JS Duplex around the TCP socket (Node then runs the TLS over a JSStreamSocket
  // and feeds OpenSSL from JavaScript: no 64 KiB libuv read buffer per session).
  jswrap: `import tls from 'node:tls'; import { Duplex } from 'node:stream';
class Wrap extends Duplex {
  constructor(s) { super(); this.s = s;
    s.on('data', (d) => { if (!this.push(d)) s.pause(); }); s.on('end', () => this.push(null));
    s.on('close', () => this.destroy()); s.on('error', (e) => this.destroy(e)); }
  _read() { this.s.resume(); }
  _write(c, e, cb) { this.s.write(c, cb); }
  _final(cb) { this.s.end(); cb(); }
  _destroy(e, cb) { this.s.destroy(); cb(e); }
  get remoteAddress() { return this.s.remoteAddress; } get remotePort() { return this.s.remotePort; }
}
const Orig = tls.TLSSocket;
tls.TLSSocket = class extends Orig { constructor(s, o) { super(o?.isServer ? new Wrap(s) : s, o); } };
`,
};

/** Write the hooks into dir; returns { name: file } for --import. */
export function writeVariantHooks(dir) {
  return Object.fromEntries(
    Object.entries(HOOKS).map(([name, text]) => {
      const file = path.join(dir, `variant-${name}.mjs`);
      fs.writeFileSync(file, text);
      return [name, file];
    }),
  );
}
