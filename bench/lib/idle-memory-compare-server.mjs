// Comparison servers for bench/lib/idle-memory-probe.mjs --bare=bench/lib/idle-memory-compare-server.mjs:MODE
// (not twostep): how much an idle TLS session costs in plain Node on this machine.
//   server         tls.createServer, each session piped to the backend (Dovecot, plaintext)
//   wrap           net server + new tls.TLSSocket(socket) (as twostep does), piped to the backend
//   jswrap         as wrap, but the TLSSocket reads a JS Duplex over the socket (Node then feeds
//                  OpenSSL from JS: no 64 KiB read-hint buffer per session, but ~2x CPU to send)
//   wrapnobackend  as wrap, answering IMAP tags itself (no backend socket)
//   prefill        as wrap, but the TLSSocket is made once the ClientHello is buffered in the socket
// argv: MODE tlsPort backendPort cert key
import fs from 'node:fs';
import net from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';

class Wrap extends Duplex {
  constructor(s) {
    super();
    this.s = s;
    s.on('data', (d) => {
      if (!this.push(d)) s.pause();
    });
    s.on('end', () => this.push(null));
    s.on('close', () => this.destroy());
    s.on('error', () => {});
  }
  _read() {
    this.s.resume();
  }
  _write(c, e, cb) {
    this.s.write(c, cb);
  }
  _final(cb) {
    this.s.end();
    cb();
  }
  _destroy(e, cb) {
    this.s.destroy();
    cb(e);
  }
}

const [mode, port, backendPort, cert, key] = process.argv.slice(2);
const files = { cert: fs.readFileSync(cert), key: fs.readFileSync(key) };
const secureContext = tls.createSecureContext(files);
const proxy = (client) => {
  if (mode === 'wrapnobackend') {
    client.write('* OK hi\r\n');
    client.on('data', (d) => { for (const l of d.toString().split('\r\n').filter(Boolean)) { const tag = l.split(' ')[0]; client.write(/IDLE/i.test(l) ? '+ idling\r\n' : `${tag} OK done\r\n`); } });
    return;
  }
  const b = net.connect({ port: Number(backendPort), host: '127.0.0.1' });
  client.pipe(b); b.pipe(client);
  client.on('error', () => b.destroy()); b.on('error', () => client.destroy());
};
if (mode === 'server') {
  // (tls.Server builds its context from the options; it does not take a secureContext.)
  tls.createServer(files, proxy).listen(Number(port), '127.0.0.1');
} else {
  const wrap = (s) => { const t = new tls.TLSSocket(mode === 'jswrap' ? new Wrap(s) : s, { isServer: true, secureContext }); t.once('secure', () => proxy(t)); t.on('error', () => {}); };
  // prefill: wrap only once the ClientHello is buffered in the socket (Node then injects it into
  // the TLS input buffer, which is sized by that first chunk instead of libuv's 64 KiB read hint).
  net.createServer((s) => (mode === 'prefill' ? s.once('readable', () => wrap(s)) : wrap(s))).listen(Number(port), '127.0.0.1');
}
