import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Set-Cookie lines. */
  cookies: string[];
  location: string | undefined;
  body: string;
}

/** One HTTP(S) request without redirects (HTTPS accepts the test's self-signed certificate). */
export function send(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string; localAddress?: string } = {},
): Promise<HttpResponse> {
  const u = new URL(url);
  const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, {
    method: opts.method ?? 'GET',
    ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
    headers: { ...(opts.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(opts.body)) }), ...opts.headers },
    rejectUnauthorized: false,
  });
  return new Promise((resolve, reject) => {
    req.once('error', reject);
    req.once('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          cookies: res.headers['set-cookie'] ?? [],
          location: res.headers.location,
          body,
        }),
      );
    });
    req.end(opts.body);
  });
}

/** A browser's cookie jar, reduced to what the tests need: name=value, replaced or dropped by Set-Cookie. */
export class CookieJar {
  readonly values = new Map<string, string>();

  take(res: HttpResponse): void {
    for (const line of res.cookies) {
      const [pair] = line.split(';');
      const eq = (pair ?? '').indexOf('=');
      const name = (pair ?? '').slice(0, eq).trim();
      const value = (pair ?? '').slice(eq + 1).trim();
      if (value === '' || /max-age=0/i.test(line)) this.values.delete(name);
      else this.values.set(name, value);
    }
  }

  header(): string {
    return [...this.values].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}
