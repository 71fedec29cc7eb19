export interface PostgresInstance {
  dir: string;
  port: number;
  /** The folder of its unix socket (.s.PGSQL.<port>). */
  socketDir: string;
  readonly pid: number;
  /** postgres://twostep@127.0.0.1:PORT/db (no password: trust authentication). */
  url(db?: string): string;
  /** postgresql://twostep@/db?host=<socketDir>&port=PORT */
  socketUrl(db?: string): string;
  /** CREATE DATABASE (a fresh name unless given); resolves to its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Stops the postmaster (SIGINT: fast shutdown; SIGKILL: a crash); the data stays for restart(). */
  halt(signal?: 'SIGINT' | 'SIGKILL'): Promise<void>;
  restart(): Promise<void>;
  log(): string;
  /** Stops it and removes its folder. */
  stop(): Promise<void>;
}

export declare function startPostgres(opts?: { port?: number }): Promise<PostgresInstance>;
export declare function findPostgresBin(): string | null;
