// nginx's mail proxy (IMAP or SMTP; plaintext, and implicit TLS when asked) as the peer to
// compare with: own config in a temp folder, `daemon off` as our child, stopped by pid.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { childPids, rssKiB, sleep, stopChild } from './proc.mjs';

export const NGINX_APT = 'apt-get install -y nginx libnginx-mod-mail';
const here = path.dirname(fileURLToPath(import.meta.url));
const MODULE_CANDIDATES = ['/usr/lib/nginx/modules/ngx_mail_module.so', '/usr/share/nginx/modules/ngx_mail_module.so'];

/** { bin, module, version } or null with what is missing. */
export function findNginx() {
  let bin = null;
  for (const d of [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/sbin', '/usr/local/sbin', '/sbin']) {
    const p = path.join(d, 'nginx');
    try {
      fs.accessSync(p, fs.constants.X_OK);
      bin = p;
      break;
    } catch {
      /* next */
    }
  }
  const module = MODULE_CANDIDATES.find((p) => fs.existsSync(p)) ?? null;
  if (!bin || !module) return { ok: false, missing: [!bin && 'nginx', !module && 'ngx_mail_module.so (libnginx-mod-mail)'].filter(Boolean) };
  const v = spawnSync(bin, ['-v'], { encoding: 'utf8' });
  const version = (v.stderr || v.stdout || '').trim().replace(/^nginx version:\s*/, '');
  return { ok: true, bin, module, version };
}

/**
 * The auth_http responder (auth-http.mjs) as its own process, like a real one; resolves when it
 * listens. Logins of `users` (name -> password) go to 127.0.0.1:backendPort.
 * @returns {Promise<{ stop: () => Promise<void> }>}
 */
export async function startAuthHttp({ port, backendPort, users }) {
  const proc = spawn(process.execPath, [path.join(here, 'auth-http.mjs'), String(port), String(backendPort), JSON.stringify(users)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('auth_http responder did not start')), 10_000);
      proc.stdout.once('data', () => (clearTimeout(timer), resolve()));
      proc.once('exit', (c) => (clearTimeout(timer), reject(new Error(`auth_http responder exited (${c})`))));
    });
  } catch (err) {
    await stopChild(proc);
    throw err;
  }
  return { stop: () => stopChild(proc) };
}

/** The server block per protocol: plaintext logins on loopback, as the other sides get them. */
const SERVER = {
  imap: `    protocol imap;
    imap_auth plain;`,
  // The extensions nginx announces itself (it does not ask the backend); PIPELINING as Postfix
  // offers it. xclient on: nginx never passes the SMTP password on, so the backend must trust
  // nginx's XCLIENT LOGIN=<user> (smtpd_authorized_xclient_hosts).
  smtp: `    protocol smtp;
    smtp_auth login plain;
    smtp_capabilities PIPELINING "SIZE 10240000" 8BITMIME ENHANCEDSTATUSCODES DSN;
    xclient on;`,
};

/** Resolves true when a fresh connection to port greets with `* OK` (IMAP) or `220` (SMTP). */
function greets(port, timeoutMs) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const done = (ok) => (clearTimeout(timer), sock.destroy(), resolve(ok));
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.setEncoding('latin1');
    sock.once('data', (d) => done(/^(\* OK|220[ -])/.test(d)));
    sock.on('error', () => done(false));
    sock.on('close', () => done(false));
  });
}

/**
 * tls: also an implicit-TLS listener (`listen ... ssl`, the modern spelling of `ssl on`) for the
 * same protocol on tls.port, with nginx's defaults otherwise (session tickets on, no session cache).
 * @param {{ bin: string, module: string, dir: string, port: number, authPort: number, workers: number,
 *   proxyBuffer?: string, protocol?: 'imap'|'smtp', tls?: { port: number, cert: string, key: string } }} o
 */
export async function startNginx(o) {
  const protocol = o.protocol ?? 'imap';
  fs.mkdirSync(o.dir, { recursive: true });
  const conf = `# twostep bench: nginx mail proxy, ${protocol.toUpperCase()}, plaintext both sides
load_module ${o.module};
daemon off;
master_process on;
worker_processes ${o.workers};
worker_rlimit_nofile 8192;
pid ${path.join(o.dir, 'nginx.pid')};
error_log ${path.join(o.dir, 'error.log')} error;
events {
  worker_connections 4096;
}
mail {
  server_name localhost;
  auth_http 127.0.0.1:${o.authPort}/auth;
  proxy_pass_error_message on;
${o.proxyBuffer ? `  proxy_buffer ${o.proxyBuffer};\n` : ''}  imap_capabilities IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE;
  server {
    listen 127.0.0.1:${o.port};
${SERVER[protocol]}
  }
${o.tls ? `  server {
    listen 127.0.0.1:${o.tls.port} ssl;
    ssl_certificate ${o.tls.cert};
    ssl_certificate_key ${o.tls.key};
${SERVER[protocol]}
  }
` : ''}}
`;
  const confPath = path.join(o.dir, 'nginx.conf');
  fs.writeFileSync(confPath, conf);
  const errLog = path.join(o.dir, 'error.log');
  const proc = spawn(o.bin, ['-e', errLog, '-c', confPath, '-p', o.dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`nginx exited at start: ${stderr}${readTail(errLog)}`);
    if (await greets(o.port, 1000)) break;
    if (Date.now() > deadline) {
      await stopChild(proc);
      throw new Error(`nginx did not answer on ${o.port}: ${stderr}${readTail(errLog)}`);
    }
    await sleep(50);
  }
  return {
    pid: proc.pid,
    conf,
    workers: () => childPids(proc.pid),
    /** master + workers, KiB */
    rss: () => rssKiB(proc.pid) + childPids(proc.pid).reduce((s, p) => s + rssKiB(p), 0),
    errorLog: () => readTail(errLog),
    stop: () => stopChild(proc),
  };
}

function readTail(file) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '';
  }
}
