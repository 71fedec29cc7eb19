// The demo's backend: a private Dovecot (IMAP, POP3, LMTP, auth) in a folder of its own.
// Same code and API as the integration tests' helper (test/helpers/dovecot.ts); plain JS so
// the demo runs with node alone.
//
//   import { startDemoDovecot, makeTestCert } from './demo-backend.mjs';
//   const dovecot = await startDemoDovecot({
//     dir: '.tmp/demo/dovecot',                       // optional; default a fresh temp dir
//     users: [{ user: 'alice', password: 'alicepw' }],
//     master: { user: 'proxymaster', password: 'masterpw' },
//   });
//   console.log(dovecot.imapPort, dovecot.pop3Port);
//   await dovecot.stop();
//
// With `dir`, the folder is kept after stop() (its contents are rewritten on the next start);
// it needs root, like the tests.
export {
  startDovecot as startDemoDovecot,
  startDovecot,
  findDovecotBinary,
  renderDovecotConf,
} from '../test/helpers/dovecot-core.mjs';
export { makeTestCert } from '../test/helpers/tls.mjs';
export { freePort } from '../test/helpers/ports.mjs';
