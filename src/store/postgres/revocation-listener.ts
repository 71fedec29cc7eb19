import pg from 'pg';
import { limits } from '../../core/limits.js';
import { logSafeError } from '../../core/log-safe-error.js';
import type { Logger } from '../../core/logger.js';
import type { RevocationNotice } from '../store.js';
import { poolConfig } from './pg-connection.js';

/** The channel the schema's trigger notifies (see migrations.ts). */
export const REVOCATION_CHANNEL = 'twostep_revoked';

type Listener = (notice: RevocationNotice | null) => void;

/** A notification's payload ({"account": 7, "code": 42}), or null when it is not one of ours. */
function parseNotice(payload: string | undefined): RevocationNotice | null {
  try {
    const p = JSON.parse(payload ?? '') as { account?: unknown; code?: unknown };
    if (typeof p.account !== 'number') return null;
    return { accountId: p.account, codeId: typeof p.code === 'number' ? p.code : null };
  } catch {
    return null;
  }
}

/**
 * One connection of its own that LISTENs on twostep_revoked, opened with the first subscriber:
 * each notification (a revoke or a two-step off, committed by any node or the CLI) goes to every
 * subscriber at once. When the connection breaks (the database restarts, the network) it is
 * opened again every limits.pgListenRetryMs; each time it is up, subscribers get null (notices
 * may have been missed before: check everything). Never throws into the store.
 */
export class RevocationListener {
  readonly #url: string;
  readonly #logger: Logger;
  readonly #listeners = new Set<Listener>();
  #client: pg.Client | undefined;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;
  #everConnected = false;

  constructor(url: string, logger: Logger) {
    this.#url = url;
    this.#logger = logger;
  }

  subscribe(fn: Listener): () => void {
    this.#listeners.add(fn);
    if (!this.#client && !this.#retry && !this.#closed) void this.#connect();
    return () => this.#listeners.delete(fn);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    const c = this.#client;
    this.#client = undefined;
    await c?.end().catch(() => {});
  }

  #emit(n: RevocationNotice | null): void {
    for (const fn of [...this.#listeners]) {
      try {
        fn(n);
      } catch (err) {
        this.#logger.error({ event: 'store.revocation-listener-failed', ...logSafeError(err) });
      }
    }
  }

  async #connect(): Promise<void> {
    this.#retry = undefined;
    if (this.#closed) return;
    const { max: _max, ...config } = poolConfig(this.#url);
    const client = new pg.Client({ ...config, statement_timeout: false, idle_in_transaction_session_timeout: 0 });
    this.#client = client;
    let lost = false;
    const onLost = (err?: Error) => {
      if (lost || this.#closed) return;
      lost = true;
      this.#client = undefined;
      if (err) this.#logger.warn({ event: 'store.listen-lost', ...logSafeError(err) }, 'revocation notices from other nodes paused: reconnecting');
      client.end().catch(() => {});
      this.#retry = setTimeout(() => void this.#connect(), limits.pgListenRetryMs);
      this.#retry.unref();
    };
    client.on('error', onLost);
    client.on('end', () => onLost(new Error('connection ended')));
    client.on('notification', (m) => {
      if (m.channel !== REVOCATION_CHANNEL) return;
      const n = parseNotice(m.payload);
      if (n) this.#emit(n);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${REVOCATION_CHANNEL}`);
    } catch (err) {
      onLost(err as Error);
      return;
    }
    if (this.#closed) {
      await client.end().catch(() => {});
      return;
    }
    if (this.#everConnected) this.#logger.info({ event: 'store.listen-back' }, 'revocation notices from other nodes again');
    this.#everConnected = true;
    this.#emit(null); // what was revoked before the LISTEN took effect is found by one check
  }
}
