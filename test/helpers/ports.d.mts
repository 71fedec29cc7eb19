/** A TCP port that was free on `host` (default 127.0.0.1) a moment ago; racy, retry on EADDRINUSE. */
export declare function freePort(host?: string): Promise<number>;
/** `count` distinct free ports. */
export declare function freePorts(count: number, host?: string): Promise<number[]>;
/** Removes the port holds of processes that are gone (the test run's global teardown). */
export declare function sweepPortHolds(): void;
