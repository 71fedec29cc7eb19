#!/usr/bin/env node
// nginx mail proxy's auth_http responder for the benchmark, run as its own process:
//   node bench/auth-http.mjs PORT BACKEND_PORT USERS_JSON
// Known user + right password: Auth-Status OK pointing at BACKEND_PORT on 127.0.0.1 (Dovecot's
// IMAP, or for SMTP the Postfix service that trusts nginx's XCLIENT).
// Anything else: "Invalid login" with Auth-Wait (without Auth-Wait nginx closes the connection),
// for SMTP also the reply code nginx is to send.
import http from 'node:http';

const [port, backendPort, usersJson] = process.argv.slice(2);
const users = JSON.parse(usersJson);

const dec = (v) => {
  try {
    return decodeURIComponent(String(v ?? ''));
  } catch {
    return '';
  }
};

const server = http.createServer((req, res) => {
  const user = dec(req.headers['auth-user']);
  const pass = dec(req.headers['auth-pass']);
  if (Object.hasOwn(users, user) && users[user] === pass) {
    res.writeHead(200, { 'Auth-Status': 'OK', 'Auth-Server': '127.0.0.1', 'Auth-Port': String(backendPort) });
  } else {
    const smtp = String(req.headers['auth-protocol'] ?? '').toLowerCase() === 'smtp';
    res.writeHead(200, { 'Auth-Status': 'Invalid login', 'Auth-Wait': '1', ...(smtp ? { 'Auth-Error-Code': '535 5.7.8' } : {}) });
  }
  res.end();
});
server.keepAliveTimeout = 1000;
server.listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
