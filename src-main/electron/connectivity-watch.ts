/**
 * Electron's main process has no "online" event, only `net.isOnline()`: poll it and call back when the network comes
 * back after being gone, so a cycle runs as soon as the servers can be reached again.
 */
export function watchConnectivity(
  isOnline: () => boolean,
  onReturn: () => void,
  options: { intervalMs?: number; setInterval?: typeof setInterval; clearInterval?: typeof clearInterval } = {},
): { stop(): void; poll(): void } {
  const every = options.setInterval ?? setInterval;
  const clear = options.clearInterval ?? clearInterval;
  let wasOnline = safe(isOnline);
  const poll = () => {
    const online = safe(isOnline);
    if (online && !wasOnline) onReturn();
    wasOnline = online;
  };
  const timer = every(poll, options.intervalMs ?? 30_000);
  (timer as { unref?: () => void }).unref?.();
  return { stop: () => clear(timer), poll };
}

function safe(isOnline: () => boolean): boolean {
  try {
    return isOnline();
  } catch {
    return true;
  }
}
