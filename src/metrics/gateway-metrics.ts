import { Counter, Histogram, LabeledCounter } from "./primitives.ts";

/** Everything the gateway core counts. */
export class GatewayMetrics {
  readonly connectionsAccepted = new Counter();
  readonly connectionsClosed = new LabeledCounter("reason");
  readonly handshakesOk = new Counter();
  readonly handshakesFailed = new LabeledCounter("reason");
  readonly takeovers = new Counter();
  /** Reconnects per device key, bounded so a flood of fake device ids cannot grow it forever. */
  readonly reconnects = new LabeledCounter("device");
  readonly messagesIn = new LabeledCounter("event");
  readonly messagesOut = new LabeledCounter("event");
  readonly authFailures = new LabeledCounter("reason");
  readonly protocolErrors = new LabeledCounter("code");
  readonly bytesIn = new Counter();
  readonly bytesOut = new Counter();
  readonly droppedNotApproved = new Counter();
  readonly pingRttMs = new Histogram([5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]);
  readonly sessionSeconds = new Histogram([1, 10, 60, 300, 900, 3600, 4 * 3600, 24 * 3600, 7 * 24 * 3600]);

  static readonly MAX_RECONNECT_KEYS = 10_000;

  noteReconnect(key: string): void {
    if (this.reconnects.values.size >= GatewayMetrics.MAX_RECONNECT_KEYS && !this.reconnects.values.has(key)) return;
    this.reconnects.inc(key);
  }
}
