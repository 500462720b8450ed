import type { Gateway } from "../gateway/gateway.ts";
import type { Logger } from "../log/logger.ts";
import type { Sweeper } from "../resources/sweeper.ts";
import type { LoopLagSampler } from "../runtime/loop-lag.ts";

export interface MemorySnapshot {
  rss: number;
  heapUsed: number;
  heapTotal: number;
}

/** What the admin app reads and drives; all runtime-neutral. */
export interface AdminDeps {
  gateway: Gateway;
  log: Logger;
  /** admin.token; null locks /api (see auth.ts). */
  token: string | null;
  /** True while the phone listener accepts connections. */
  listening?: () => boolean;
  loopLag?: LoopLagSampler;
  sweeper?: Sweeper;
  memory?: () => MemorySnapshot;
  startedAt?: number;
}
