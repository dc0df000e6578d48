import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomically } from '../runner/runner-state-file.ts';
import { loadEwsState } from '../../test/peers/ews/ews-simulator.ts';
import type { EwsSimulator, EwsState } from '../../test/peers/ews/ews-simulator.ts';
import { loadSeveraState } from '../../test/peers/severa/severa-simulator.ts';
import type { SeveraSimulator, SeveraState } from '../../test/peers/severa/severa-simulator.ts';

/**
 * Keeps the demo simulators' state between two `--demo` runs, beside the sync store, so the second run continues where
 * the first stopped: each simulator's own state snapshot (exportState), loaded with `start...Simulator({ state })`.
 * Item ids, ChangeKeys, Exchange sync states and Severa timestamps all survive, so the second run reads one
 * SyncFolderItems per mailbox, finds nothing new and reports no changes.
 */

const STATE_DIR = 'demo-peers';
const EWS_FILE = 'ews-state.json';
const SEVERA_FILE = 'severa-state.json';
/** What earlier versions of the demo saved instead (simulator seeds that could not keep sync states). */
const OLD_FILES = ['ews-seed.json', 'severa-seed.json'];

export interface SavedDemoPeers {
  ews: EwsState;
  severa: SeveraState;
}

export class DemoStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DemoStateError';
  }
}

/** The saved simulators, or null when the demo starts afresh from its seeds. */
export function loadDemoPeerState(dataDir: string): SavedDemoPeers | null {
  const dir = join(dataDir, STATE_DIR);
  const has = (file: string) => existsSync(join(dir, file));
  const afresh = `delete ${dataDir} to start the demo afresh`;
  if (!has(EWS_FILE) && !has(SEVERA_FILE)) {
    if (OLD_FILES.some(has)) throw new DemoStateError(`The demo data in ${dataDir} was saved by an older version of the demo, which could not keep the simulators' full state; ${afresh}.`);
    return null;
  }
  const missing = [EWS_FILE, SEVERA_FILE].filter((f) => !has(f));
  if (missing.length) throw new DemoStateError(`The demo data in ${dataDir} is incomplete: ${join(dir, missing[0])} is missing; ${afresh}.`);
  try {
    return { ews: loadEwsState(join(dir, EWS_FILE)), severa: loadSeveraState(join(dir, SEVERA_FILE)) };
  } catch (error) {
    throw new DemoStateError(`${(error as Error).message}\nThe saved demo state cannot be loaded; ${afresh}.`);
  }
}

export function saveDemoPeerState(dataDir: string, peers: { ews: EwsSimulator; severa: SeveraSimulator }): void {
  const dir = join(dataDir, STATE_DIR);
  writeJsonAtomically(join(dir, EWS_FILE), peers.ews.exportState());
  writeJsonAtomically(join(dir, SEVERA_FILE), peers.severa.exportState());
}
