import { limits } from '../core/limits.js';
import { LogEvent } from '../core/log-events.js';
import { logSafeError } from '../core/log-safe-error.js';
import type { Logger } from '../core/logger.js';
import { mailAddressOf } from '../core/mail-address.js';
import type { MailNoticeQueue } from '../policy/notices.js';
import type { MailNotice } from '../store/types.js';
import { noticeMessage } from './mail-message.js';
import { noticeText } from './notice-text.js';
import { SmtpSubmission, type SubmitTarget } from './smtp-submit.js';

export interface NoticeSenderOptions {
  queue: MailNoticeQueue;
  target: SubmitTarget;
  /** [notify] from. */
  from: string;
  /** The link in every notice: [portal] public_url. */
  portalUrl: string;
  /** Completes a login name without "@" into an address ([notify] recipient_domain, else [clients] domains' first). */
  recipientDomain?: string;
  logger: Logger;
}

export interface NoticeSender {
  /** One round now (claim, send, mark); the timer calls it, never two at once. */
  tick(): Promise<void>;
  /** Stops the timer and waits for a round under way. */
  close(): Promise<void>;
}

/**
 * `serve`'s notice sender: every limits.noticePollMs it claims the due notices (queued by any
 * process: the CLI, the portal, the login path's write-behind queue) and hands them to the mail
 * server over one connection. A notice the server takes is marked sent; one it refuses for good
 * (5xx), or one for a user without an address, is given up; anything else (server down, 4xx, a
 * timeout) is due again later, with doubling waits (MailNoticeQueue.retry). It never touches a
 * login: logins only queue. Also queues the "code expires soon" notices (at start, then every
 * limits.noticeExpiryScanMs) and prunes old notices.
 */
export function startNoticeSender(o: NoticeSenderOptions): NoticeSender {
  const log = o.logger;
  let lastScan = -Infinity;
  let lastPrune = -Infinity;
  let running: Promise<void> | undefined;
  let closed = false;
  /** Aborted by close(): a round stuck on a silent mail server lets go (its notices are retried later). */
  const stop = new AbortController();

  const chores = async (): Promise<void> => {
    const now = Date.now();
    if (now - lastScan >= limits.noticeExpiryScanMs) {
      lastScan = now;
      await o.queue.queueExpiring();
    }
    if (now - lastPrune >= limits.auditPruneIntervalMs) {
      lastPrune = now;
      await o.queue.prune();
    }
  };

  const round = async (): Promise<void> => {
    await chores();
    const due = await o.queue.claim(limits.noticeBatch);
    if (due.length === 0) return;
    const ready: { n: MailNotice; to: string; data: Buffer; eightBit: boolean }[] = [];
    for (const n of due) {
      const to = mailAddressOf(n.username, o.recipientDomain);
      const text = to === null ? null : noticeText(n, { address: to, portalUrl: o.portalUrl });
      if (to === null || text === null) {
        await giveUp(n, to === null ? 'no mail address for this user name (set [notify] recipient_domain)' : `unknown notice kind ${n.kind}`);
        continue;
      }
      ready.push({ n, to, ...noticeMessage({ from: o.from, to, text, kind: n.kind, at: n.createdAt }) });
    }
    if (ready.length === 0) return;
    let smtp: SmtpSubmission;
    try {
      smtp = await SmtpSubmission.open(o.target, stop.signal);
    } catch (err) {
      for (const r of ready) await retry(r.n, err);
      return;
    }
    try {
      for (const [i, r] of ready.entries()) {
        let outcome;
        try {
          outcome = await smtp.send(o.from, r.to, r.data, r.eightBit);
        } catch (err) {
          for (const rest of ready.slice(i)) await retry(rest.n, err); // the connection is gone
          return;
        }
        if (outcome.ok) {
          await o.queue.sent(r.n.id);
          log.info({ event: LogEvent.noticeSent, id: r.n.id, user: r.n.username, kind: r.n.kind, attempts: r.n.attempts + 1 }, 'notice sent');
        } else if (outcome.permanent) {
          await giveUp(r.n, outcome.detail);
        } else {
          await retry(r.n, outcome.detail);
        }
      }
    } finally {
      smtp.close();
    }
  };

  const giveUp = async (n: MailNotice, why: string): Promise<void> => {
    await o.queue.failed(n.id, why);
    log.warn({ event: LogEvent.noticeFailed, id: n.id, user: n.username, kind: n.kind, why }, 'notice given up');
  };

  const retry = async (n: MailNotice, err: unknown): Promise<void> => {
    const f = typeof err === 'string' ? undefined : logSafeError(err);
    const why = typeof err === 'string' ? err : (f?.err ?? f?.errCode ?? f?.errName ?? 'error');
    const verdict = await o.queue.retry(n, why);
    const line = { event: verdict === 'failed' ? LogEvent.noticeFailed : LogEvent.noticeRetry, id: n.id, user: n.username, kind: n.kind, attempts: n.attempts + 1, why };
    if (verdict === 'failed') log.warn(line, 'notice given up');
    else log.info(line, 'notice not sent: will try again');
  };

  const tick = (): Promise<void> => {
    if (running || closed) return running ?? Promise.resolve();
    running = round()
      .catch((err: unknown) => {
        log.error({ event: LogEvent.noticeError, ...logSafeError(err) }, 'notice round failed');
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };

  void tick();
  const timer = setInterval(() => void tick(), limits.noticePollMs);
  timer.unref();
  return {
    tick,
    async close() {
      closed = true;
      clearInterval(timer);
      stop.abort();
      // A connect still under way has its own deadline (limits.noticeSmtpConnectMs); shutdown does not wait that long.
      await Promise.race([running, new Promise((r) => setTimeout(r, limits.closeLingerMs).unref())]);
    },
  };
}
