// Logins per second: `clients` concurrent workers doing login rounds (connect, greeting, LOGIN,
// LOGOUT) for a while. Shared by the plaintext and the TLS login scenarios.
import { loginRound } from './imap-client.mjs';
import { sleep } from './proc.mjs';

/**
 * logins/s of `clients` workers doing login rounds for `seconds`. tlsCaches (TLS resumption): one
 * session cache per worker ({ session, resumed, full }, see loginRound), kept by the caller across
 * samples so that each worker offers the ticket of its previous connection.
 * @param {{ port: number, tls?: boolean, user: string, password: string }} target
 * @param {number} clients
 * @param {number} seconds
 * @param {{ session: Buffer | null, resumed: number, full: number }[]} [tlsCaches]
 */
export async function loginRate(target, clients, seconds, tlsCaches) {
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  let ok = 0;
  let errors = 0;
  let firstError;
  const worker = async (i) => {
    while (performance.now() < end) {
      try {
        await loginRound(target, target.user, target.password, tlsCaches?.[i]);
        ok++;
      } catch (err) {
        firstError ??= err;
        if (++errors > 20) throw firstError;
        await sleep(20);
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, i) => worker(i)));
  return ok / ((performance.now() - start) / 1000);
}

/** Fresh session caches for `clients` workers. */
export const tlsCaches = (clients) => Array.from({ length: clients }, () => ({ session: null, resumed: 0, full: 0 }));
