import type { EwsSeed, EwsSimulator } from '../../test/peers/ews/ews-simulator.ts';
import type { SeveraSeed, SeveraSimulator } from '../../test/peers/severa/severa-simulator.ts';

export interface SavedDemoPeers {
  ews: EwsSeed;
  severa: SeveraSeed;
  afterStart?: (peers: { ews: EwsSimulator; severa: SeveraSimulator }) => Promise<void> | void;
}

export function loadDemoPeerState(_dataDir: string): SavedDemoPeers | null {
  return null;
}

export function saveDemoPeerState(_dataDir: string, _peers: { ews: EwsSimulator; severa: SeveraSimulator; ewsSeed: EwsSeed; severaSeed: SeveraSeed }): void {}
