import type { EwsNotificationClient } from './ews-notification-client.ts';

/** The change watch's settings (EwsConnectorOptions.watch), their defaults and limits. */

export interface EwsWatchOptions {
  /** GetStreamingEvents ConnectionTimeout in minutes, 1..30 (default 30). */
  connectionTimeoutMinutes?: number;
  /** How long one of those minutes is (default 60000). Only tests shorten it, together with the simulator's. */
  minuteMs?: number;
  /** Subscriptions per connection, 1..200 (default 200, Exchange's most per GetStreamingEvents). */
  subscriptionsPerConnection?: number;
  /** Streaming connections at most (default: one under the server's hanging-connection limit, so a renewal fits). */
  maxConnections?: number;
  /** A connection with nothing on it (not even a keep-alive) for this long is dropped (default 90000: twice 45 s). */
  idleTimeoutMs?: number;
  /** First reconnect delay after a failure, doubled each time up to 60 s (default 1000). */
  retryMs?: number;
  /** After Exchange refused streaming or another connection, streaming is tried again after this (default 1 h). */
  streamingRetryMs?: number;
  /** A mailbox that cannot be watched (impersonation refused, no mailbox) is tried again after this (default 15 min). */
  offRetryMs?: number;
  /** Subscribe requests in flight at once (default 4). */
  subscribeConcurrency?: number;
  /** Deadline for opening a connection (default: the connector's request timeout). */
  connectTimeoutMs?: number;
}

/** What the connector hands the watch. */
export interface EwsWatchSetup {
  client: EwsNotificationClient;
  /** RequestServerVersion of the connector, e.g. 'Exchange2016'. */
  version: string;
  /** The server type has streaming notifications (Exchange 2010 SP1 and later). */
  streamingSupported: boolean;
  /** Open streaming connections per account on this server type (HangingConnectionLimit). */
  hangingConnectionLimit: number;
  pollIntervalMs: number;
  requestTimeoutMs: number;
  options: EwsWatchOptions;
}

export interface WatchSettings {
  timeoutMinutes: number;
  /** Renew a connection this long after opening it: a minute (at most a tenth) before its ConnectionTimeout. */
  renewAfterMs: number;
  perConnection: number;
  maxConnections: number;
  idleTimeoutMs: number;
  retryMs: number;
  streamingRetryMs: number;
  offRetryMs: number;
  subscribeConcurrency: number;
  connectTimeoutMs: number;
}

function whole(value: number | undefined, fallback: number, min: number, max: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.min(max, Math.max(min, Math.round(value))) : fallback;
}

export function watchSettings(setup: EwsWatchSetup): WatchSettings {
  const o = setup.options;
  const timeoutMinutes = whole(o.connectionTimeoutMinutes, 30, 1, 30);
  const lifetimeMs = timeoutMinutes * whole(o.minuteMs, 60_000, 1, 60_000);
  return {
    timeoutMinutes,
    renewAfterMs: lifetimeMs - Math.min(60_000, lifetimeMs / 10),
    perConnection: whole(o.subscriptionsPerConnection, 200, 1, 200),
    maxConnections: whole(o.maxConnections, Math.max(1, setup.hangingConnectionLimit - 1), 1, 1000),
    idleTimeoutMs: whole(o.idleTimeoutMs, 90_000, 10, 3_600_000),
    retryMs: whole(o.retryMs, 1000, 1, 600_000),
    streamingRetryMs: whole(o.streamingRetryMs, 3_600_000, 1, 86_400_000),
    offRetryMs: whole(o.offRetryMs, 900_000, 1, 86_400_000),
    subscribeConcurrency: whole(o.subscribeConcurrency, 4, 1, 27),
    connectTimeoutMs: whole(o.connectTimeoutMs, setup.requestTimeoutMs, 1, 600_000),
  };
}

/** Reconnect delay after `failures` failures in a row: retryMs, doubled each time, at most 60 s. */
export function backoffMs(settings: WatchSettings, failures: number): number {
  return Math.min(60_000, settings.retryMs * 2 ** Math.max(0, failures - 1));
}
