// nginx's mail proxy (IMAP) as the peer to compare with: own config in a temp folder,
// `daemon off` as our child, stopped by pid.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ImapConn } from './imap-client.mjs';
import { childPids, rssKiB, sleep, stopChild } from './proc.mjs';

export const NGINX_APT = 'apt-get install -y nginx libnginx-mod-mail';
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
 * @param {{ bin: string, module: string, dir: string, port: number, authPort: number, workers: number, proxyBuffer?: string }} o
 */
export async function startNginx(o) {
  fs.mkdirSync(o.dir, { recursive: true });
  const conf = `# twostep bench: nginx mail proxy, IMAP, plaintext both sides
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
    protocol imap;
    imap_auth plain;
  }
}
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
    try {
      const c = await ImapConn.open({ port: o.port, timeoutMs: 1000 });
      c.close();
      break;
    } catch {
      if (Date.now() > deadline) {
        await stopChild(proc);
        throw new Error(`nginx did not answer on ${o.port}: ${stderr}${readTail(errLog)}`);
      }
      await sleep(50);
    }
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
