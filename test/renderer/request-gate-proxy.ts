import net from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP pass-through in front of a test server that can hold back requests containing a marker (e.g. an EWS operation
 * name) until the test releases them: a test sees the state "this request is under way" for as long as it needs,
 * with no timing involved. One upstream connection per client connection, so connection-bound logins (NTLM) work.
 */
export interface RequestGateProxy {
  /** The proxy's port on 127.0.0.1. */
  port: number;
  /** From now on, data containing `marker` waits; resolves once such data has arrived and is being held. */
  hold(marker: string): Promise<void>;
  /** Lets held data (and everything after it) through and stops holding. */
  release(): void;
  close(): Promise<void>;
}

export async function startRequestGateProxy(upstreamPort: number): Promise<RequestGateProxy> {
  let marker: string | null = null;
  let gate: { opened: Promise<void>; open(): void } | null = null;
  let noticeHeld: (() => void) | null = null;
  const sockets = new Set<net.Socket>();

  const server = net.createServer((client) => {
    const upstream = net.connect(upstreamPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    for (const s of [client, upstream]) s.on('close', () => sockets.delete(s));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    upstream.pipe(client);
    client.on('end', () => upstream.end());
    // The tail of the previous chunk, so a marker split across two chunks is still seen.
    let tail = '';
    let queue = Promise.resolve();
    client.on('data', (chunk: Buffer) => {
      const text = tail + chunk.toString('latin1');
      tail = text.slice(-64);
      const waitFor = marker && gate && text.includes(marker) ? gate.opened : null;
      if (waitFor) noticeHeld?.();
      queue = queue.then(async () => {
        if (waitFor) await waitFor;
        if (!upstream.destroyed) upstream.write(chunk);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    port: (server.address() as AddressInfo).port,
    hold(m) {
      marker = m;
      let open!: () => void;
      const opened = new Promise<void>((resolve) => (open = resolve));
      gate = { opened, open };
      return new Promise<void>((resolve) => (noticeHeld = resolve));
    },
    release() {
      gate?.open();
      gate = null;
      marker = null;
      noticeHeld = null;
    },
    async close() {
      gate?.open();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
