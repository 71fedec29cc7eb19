export interface TestCert {
  /** path of the PEM certificate */
  cert: string;
  /** path of the PEM private key (unencrypted) */
  key: string;
  certPem: string;
  keyPem: string;
}
/** Self-signed CN=localhost cert (SAN DNS:localhost, IP:127.0.0.1, 2 days) written into `dir`. */
export declare function makeTestCert(dir: string): TestCert;
