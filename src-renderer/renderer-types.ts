import type { RendererApi } from '../src-main/common/ipc-contract.ts';

export type { RendererApi };
export interface SideCountsView {
  created: number;
  updated: number;
  deleted: number;
}

declare global {
  interface Window {
    severaSync?: RendererApi;
  }
}
