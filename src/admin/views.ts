/** JSON shapes the admin API returns for live sessions and stored devices. */
import type { Gateway } from "../gateway/gateway.ts";
import type { Session } from "../session/session.ts";
import type { DeviceRecord } from "../store/types.ts";

const iso = (ms: number): string | null => (ms > 0 ? new Date(ms).toISOString() : null);

export interface SessionView {
  id: number;
  bot: string;
  device: string;
  status: string;
  state: string;
  address: string;
  connectedAt: string | null;
  openedAt: string | null;
  clientVersion: string | null;
  deviceInfo: string | null;
  lastPingAt: string | null;
  lastRttMs: number | null;
  lastMonitoring: Record<string, unknown> | null;
  bytesIn: number;
  bytesOut: number;
  linesIn: number;
  linesOut: number;
  queuedBytes: number;
  authFailures: number;
}

export function sessionView(s: Session): SessionView {
  return {
    id: s.id,
    bot: s.botName,
    device: s.deviceId,
    status: s.status,
    state: s.state,
    address: s.address,
    connectedAt: iso(s.connectedAt),
    openedAt: iso(s.openedAt),
    clientVersion: s.clientVersion || null,
    deviceInfo: s.clientInfo,
    lastPingAt: iso(s.lastPingAt),
    lastRttMs: s.lastRttMs,
    lastMonitoring: s.lastMonitoring,
    bytesIn: s.bytesIn,
    bytesOut: s.writer.bytesWritten,
    linesIn: s.linesIn,
    linesOut: s.linesOut,
    queuedBytes: s.writer.pendingBytes,
    authFailures: s.authFailures,
  };
}

export type DeviceView = DeviceRecord & { connected: boolean; sessionId: number | null };

export function deviceView(g: Gateway, d: DeviceRecord): DeviceView {
  const s = g.getSession(d.botName, d.deviceId);
  const live = s !== undefined && s.isOpen;
  return { ...d, connected: live, sessionId: live ? s.id : null };
}
