import type { MiddlewareHandler } from 'hono';

/**
 * Content-Security-Policy: only this origin's script and style files; images also as data: URIs
 * (the QR code); no inline script or style, no plugins, no framing, forms post to this origin only.
 */
export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** Security headers on every response; HSTS only when the portal itself speaks HTTPS. */
export function securityHeaders(opts: { hsts: boolean }): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const h = c.res.headers;
    h.set('Content-Security-Policy', CSP);
    h.set('X-Content-Type-Options', 'nosniff');
    h.set('X-Frame-Options', 'DENY');
    h.set('Referrer-Policy', 'no-referrer');
    h.set('Cross-Origin-Opener-Policy', 'same-origin');
    h.set('Cross-Origin-Resource-Policy', 'same-origin');
    h.set('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=()');
    // Pages show codes and keys: never kept by the browser or a proxy.
    if (!c.req.path.startsWith('/static/')) h.set('Cache-Control', 'no-store');
    if (opts.hsts) h.set('Strict-Transport-Security', 'max-age=31536000');
  };
}
