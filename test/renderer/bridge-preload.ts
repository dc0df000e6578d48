import { RENDERER_API_KEY, createRendererApi } from '../../src-main/common/ipc-contract.ts';

/**
 * The test's stand-in for src-main/electron/preload.ts: the same createRendererApi on the same window key, with the
 * transport swapped: requests go to the test process through a Playwright binding (which reports the sending frame's URL,
 * so the real sender check runs), pushes come back through __scsEmit. Bundled to one script and injected before the page.
 */
type Bindings = {
  __scsInvoke(channel: string, payload: unknown): Promise<unknown>;
  __scsEmit?: (event: string, data: unknown) => void;
} & Record<string, unknown>;

const w = window as unknown as Bindings;
const listeners = new Map<string, Set<(data: unknown) => void>>();
w.__scsEmit = (event, data) => listeners.get(event)?.forEach((l) => l(data));
w[RENDERER_API_KEY] = Object.freeze(
  createRendererApi({
    send: (channel, payload) => w.__scsInvoke(channel, payload),
    subscribe: (event, listener) => {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      set.add(listener);
      return () => void set.delete(listener);
    },
  }),
);
