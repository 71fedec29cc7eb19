// twostep for the benchmark: config + users prepared in-process (dist/), `serve` run as a
// child process (`node bin/twostep --config FILE serve`) so its RSS is its own.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ImapConn } from './imap-client.mjs';
import { rssKiB, sleep, stopChild } from './proc.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The twostep config file text for the bench. smtp (optional): a plaintext submission listener
 * in front of the Postfix service at smtp.backendPort, logging in there as smtp.backendLogin says.
 * verifySocket (optional): a [dovecot] section, the verify service for Dovecot's Lua passdb.
 * workers (optional): writes `[server] workers = N` (serve's worker processes, issue 14); unset,
 * the key is left out.
 */
export function twostepConfig({ storePath, store, cert, key, masterPasswordFile, port, tlsPort, backendPort, logLevel, loginCacheSeconds = 300, smtp, verifySocket, workers }) {
  return [
    ...(workers === undefined ? [] : ['[server]', `workers = ${Number(workers)}`]),
    '[store]',
    `path = ${JSON.stringify(storePath)}`,
    // store: { url, secretKeyFile }: PostgreSQL instead of the SQLite file.
    ...(store ? [`url = ${JSON.stringify(store.url)}`, `secret_key_file = ${JSON.stringify(store.secretKeyFile)}`] : []),
    '[tls]',
    `cert = ${JSON.stringify(cert)}`,
    `key = ${JSON.stringify(key)}`,
    '[backend]',
    'master_user = "proxymaster"',
    `master_password_file = ${JSON.stringify(masterPasswordFile)}`,
    '[imap]',
    `listen = "127.0.0.1:${port}"`,
    `listen_tls = "127.0.0.1:${tlsPort}"`,
    `backend = "127.0.0.1:${backendPort}"`,
    'backend_tls = "none"',
    ...(smtp
      ? [
          '[smtp]',
          `listen = "127.0.0.1:${smtp.port}"`,
          'listen_tls = ""',
          `backend = "127.0.0.1:${smtp.backendPort}"`,
          'backend_tls = "none"',
          `backend_login = ${JSON.stringify(smtp.backendLogin)}`,
        ]
      : []),
    ...(verifySocket ? ['[dovecot]', `verify_socket = ${JSON.stringify(verifySocket)}`, 'kick_command = []'] : []),
    '[auth]',
    'allow_plaintext = true',
    `login_cache_seconds = ${loginCacheSeconds}`,
    // The bench logs in thousands of times from 127.0.0.1 without failing; keep throttles out of the way.
    'failure_delay_ms = 0',
    '[log]',
    `level = ${JSON.stringify(logLevel)}`,
    '',
  ].join('\n');
}

/**
 * Allow `user`, enrol and confirm TOTP, add one application code; returns the code.
 * Runs in this process against the same SQLite database the child will open.
 */
export async function enrolAppCodeUser(configText, configPath, user) {
  const { parseConfig } = await import(pathToFileURL(path.join(repo, 'dist/config/load-config.js')).href);
  const { silentLogger } = await import(pathToFileURL(path.join(repo, 'dist/core/logger.js')).href);
  const { openPolicy } = await import(pathToFileURL(path.join(repo, 'dist/main.js')).href);
  const { authenticator } = await import('otplib');
  const config = parseConfig(configText, configPath);
  const admin = await openPolicy(config, silentLogger());
  try {
    await admin.policy.setAdminPolicy(user, 'allowed');
    const { key } = await admin.policy.totpEnroll(user);
    await admin.policy.totpConfirm(user, authenticator.generate(key));
    return (await admin.policy.appCodeAdd(user, 'bench')).code;
  } finally {
    await admin.close();
  }
}

/**
 * Start `twostep serve` as a child; resolves when the plaintext port greets. execPath, nodeArgs
 * and env (added to ours) change how Node runs it, e.g. another Node binary, V8 flags, or
 * LD_PRELOAD of another malloc (bench/lib/memory-variants.mjs); repoDir: another checkout with
 * its own dist/ (an A/B of two builds).
 */
export async function startTwostepChild({ configPath, port, logFile, execPath = process.execPath, nodeArgs = [], env = {}, repoDir = repo }) {
  const out = fs.openSync(logFile, 'a');
  const proc = spawn(execPath, [...nodeArgs, path.join(repoDir, 'bin/twostep'), '--config', configPath, 'serve'], {
    cwd: repoDir,
    stdio: ['ignore', out, out],
    env: { ...process.env, ...env },
  });
  fs.closeSync(out);
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`twostep serve exited at start (${proc.exitCode ?? proc.signalCode}):\n${tail(logFile)}`);
    }
    try {
      const c = await ImapConn.open({ port, timeoutMs: 1000 });
      c.close();
      break;
    } catch {
      if (Date.now() > deadline) {
        await stopChild(proc);
        throw new Error(`twostep serve did not answer on ${port}:\n${tail(logFile)}`);
      }
      await sleep(50);
    }
  }
  return { pid: proc.pid, rss: () => rssKiB(proc.pid), stop: () => stopChild(proc), log: () => tail(logFile) };
}

function tail(file) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '';
  }
}
