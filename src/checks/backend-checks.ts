import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/schema.js';
import { limits } from '../core/limits.js';
import type { Logger } from '../core/logger.js';
import type { Secret } from '../core/secret.js';
import { isTransient } from './backend-error-line.js';
import { checkImapBackend } from './imap-backend-check.js';
import { checkPop3Backend } from './pop3-backend-check.js';
import { checkSmtpBackend } from './smtp-backend-check.js';

type Master = { user: string; password: Secret };

/** Each configured backend's check, in order: IMAP (with the master login), POP3, SMTP. */
export function backendChecks(config: Config, master: Master): { key: string; run(): Promise<string> }[] {
  return [
    { key: 'imap.backend', run: () => checkImapBackend(config, master) },
    ...(config.pop3 ? [{ key: 'pop3.backend', run: () => checkPop3Backend(config) }] : []),
    ...(config.smtp ? [{ key: 'smtp.backend', run: () => checkSmtpBackend(config, master) }] : []),
  ];
}

/**
 * serve's start: every backend answers and the master login works, else one line naming the
 * backend and the key (thrown). A backend that cannot be reached, or answers "not now", is
 * tried again every limits.startupRetryMs for [backend] startup_wait_seconds in all, each try
 * logged; a refused master login or a wrong setting fails at once (restarting will not help).
 */
export async function awaitBackends(config: Config, master: Master, logger: Logger): Promise<void> {
  const waitMs = config.backend.startup_wait_seconds * 1000;
  const deadline = Date.now() + waitMs;
  for (const check of backendChecks(config, master)) {
    for (let attempt = 1; ; attempt++) {
      try {
        const line = await check.run();
        logger.info({ event: 'backend-checked', check: check.key, attempt }, line);
        break;
      } catch (err) {
        const left = deadline - Date.now();
        if (!isTransient(err) || left < limits.startupRetryMs) {
          if (isTransient(err) && waitMs > 0 && err instanceof Error) {
            err.message += ` (still after ${config.backend.startup_wait_seconds} s: backend.startup_wait_seconds)`;
          }
          throw err;
        }
        const message = err instanceof Error ? err.message : String(err);
        logger.warn(
          { event: 'backend-wait', check: check.key, attempt, leftSeconds: Math.round(left / 1000) },
          `${message}; trying again in ${limits.startupRetryMs / 1000} s`,
        );
        await sleep(limits.startupRetryMs);
      }
    }
  }
}
