import net from 'node:net';

/** mulberry32: a small seeded PRNG, so a failure can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Protocol-shaped junk: tokens, random bytes and long runs (line and total caps), CRLFs and spaces between. */
export function junk(rand: () => number, tokens: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  const n = 1 + Math.floor(rand() * 25);
  for (let i = 0; i < n; i++) {
    const r = rand();
    if (r < 0.7) parts.push(Buffer.from(tokens[Math.floor(rand() * tokens.length)] as string));
    else if (r < 0.9) parts.push(Buffer.from(Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256))));
    else parts.push(Buffer.alloc(Math.floor(rand() * 20_000), 0x41)); // long runs: line and total caps
    if (rand() < 0.4) parts.push(Buffer.from(rand() < 0.5 ? '\r\n' : ' '));
  }
  return Buffer.concat(parts);
}

/** Sends the bytes, reads until the server closes or goes quiet; returns what it said (latin1). */
export function probe(port: number, payload: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let got = '';
    let quiet: NodeJS.Timeout;
    const done = () => {
      clearTimeout(quiet);
      s.destroy();
      resolve(got);
    };
    const rearm = () => {
      clearTimeout(quiet);
      quiet = setTimeout(done, 250);
    };
    s.on('data', (d) => {
      got += d.toString('latin1');
      rearm();
    });
    s.on('error', () => {});
    s.on('close', done);
    s.once('connect', () => {
      s.write(payload);
      rearm();
    });
  });
}

/** Runs all payloads against the port, 40 at a time; the answers in order. */
export async function probeAll(port: number, payloads: Buffer[]): Promise<string[]> {
  const answers: string[] = [];
  for (let i = 0; i < payloads.length; i += 40) {
    answers.push(...(await Promise.all(payloads.slice(i, i + 40).map((p) => probe(port, p)))));
  }
  return answers;
}
