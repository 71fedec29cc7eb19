export interface HaproxyInstance {
  /** The frontend port of each service, by name. */
  ports: Record<string, number>;
  pid: number;
  stop(): Promise<void>;
}

/**
 * HAProxy in TCP mode: per service a frontend on 127.0.0.1 and round robin over `servers`
 * (ports on 127.0.0.1), sending the PROXY protocol header (v1, v2, or none) from `source`.
 */
export declare function startHaproxy(o: { services: { name: string; servers: number[] }[]; proxy: 'v1' | 'v2' | false; source?: string }): Promise<HaproxyInstance>;
