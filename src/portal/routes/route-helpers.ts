import type { Hono } from 'hono';
import { isTwostepError, type ErrorCode } from '../../core/errors.js';
import type { LoadedSession, PortalContext, PortalEnv } from '../portal-context.js';

/** Policy refusals a person can act on; their messages name no secret and are shown as they are. */
const USER_FACING: readonly ErrorCode[] = [
  'BAD_STATE',
  'NAME_TAKEN',
  'NOT_FOUND',
  'LIMIT_REACHED',
  'INVALID_INPUT',
  'INVALID_CODE',
  'USER_NOT_ALLOWED',
  'USER_NOT_FOUND',
  'STORE_BUSY',
];

/** What a person sees when the database stayed locked (a backup, a long admin command): nothing was changed. */
export const BUSY_TEXT = 'The service is busy just now and nothing was changed. Please try again in a moment.';

/** The message to show for an expected refusal; anything else is rethrown (logged by onError as a 500). */
export function refusalMessage(err: unknown): string {
  if (isTwostepError(err, 'STORE_BUSY')) return BUSY_TEXT;
  if (isTwostepError(err) && USER_FACING.includes(err.code)) return err.message;
  throw err;
}

/** Fixed notices after a redirect, chosen by a short key in the query (never free text from the URL). */
export const NOTICES: Record<string, string> = {
  'signed-out': 'You have signed out.',
  'signed-out-all': 'You have signed out everywhere.',
  disabled: 'Two-step authentication is off. Your password alone signs in again.',
  'device-revoked': 'This device is no longer trusted.',
  'device-not-trusted': 'This device was not trusted: the next sign-in here asks for a code anyway.',
  'devices-revoked': 'All other devices are no longer trusted.',
  'app-revoked': 'The application code was revoked.',
  regenerated: 'New one-time codes were generated. The old ones no longer work.',
  'policy-set': 'Saved.',
  reset: 'Two-step authentication of the user was reset.',
  expired: 'Your session has ended. Please sign in again.',
};

export const noticeOf = (c: PortalContext): string | undefined => NOTICES[c.req.query('done') ?? ''];

/** The signed-in user (password and, when due, the code), else null. */
export function signedInUser(c: PortalContext): LoadedSession | null {
  const s = c.get('user');
  return s && s.view.stage === 'signed-in' ? s : null;
}

export function signedInAdmin(c: PortalContext): LoadedSession | null {
  const s = c.get('admin');
  return s && s.view.stage === 'signed-in' ? s : null;
}

export type SessionHandler = (c: PortalContext, s: LoadedSession) => Response | Promise<Response>;

/**
 * GET and POST routes only for a signed-in user (or admin): anyone else is sent to `signInPath`
 * (after a POST with a note that the session ended).
 */
export function guardedRoutes(app: Hono<PortalEnv>, who: (c: PortalContext) => LoadedSession | null, signInPath: string) {
  return {
    get: (path: string, h: SessionHandler) =>
      app.get(path, (c) => {
        const s = who(c);
        return s ? h(c, s) : c.redirect(signInPath, 303);
      }),
    post: (path: string, h: SessionHandler) =>
      app.post(path, (c) => {
        const s = who(c);
        return s ? h(c, s) : c.redirect(`${signInPath}?done=expired`, 303);
      }),
  };
}
