import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';

/** The portal's cookies: all HttpOnly and SameSite=Strict; Secure (and a __Host-/__Secure- prefix) over HTTPS. */
export type CookieName = 'session' | 'admin' | 'device' | 'pre' | 'browser';

const PATHS: Record<CookieName, string> = { session: '/', admin: '/admin', device: '/', pre: '/', browser: '/' };

export class PortalCookies {
  constructor(readonly secure: boolean) {}

  #name(n: CookieName): string {
    const base = `twostep_${n}`;
    if (!this.secure) return base;
    return PATHS[n] === '/' ? `__Host-${base}` : `__Secure-${base}`;
  }

  get(c: Context, n: CookieName): string | undefined {
    const v = getCookie(c, this.#name(n));
    return v === undefined || v.length > 256 ? undefined : v;
  }

  /** maxAgeSeconds undefined = a browser-session cookie. */
  set(c: Context, n: CookieName, value: string, maxAgeSeconds?: number): void {
    setCookie(c, this.#name(n), value, {
      path: PATHS[n],
      httpOnly: true,
      sameSite: 'Strict',
      secure: this.secure,
      ...(maxAgeSeconds === undefined ? {} : { maxAge: maxAgeSeconds }),
    });
  }

  clear(c: Context, n: CookieName): void {
    deleteCookie(c, this.#name(n), { path: PATHS[n], secure: this.secure, httpOnly: true, sameSite: 'Strict' });
  }
}
