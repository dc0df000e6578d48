import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { t } from '../common/i18n/i18n.ts';
import { writeJsonAtomically } from '../runner/runner-state-file.ts';
import { loadEwsState } from '../../test/peers/ews/ews-simulator.ts';
import type { EwsSimulator, EwsState } from '../../test/peers/ews/ews-simulator.ts';
import { loadGraphState } from '../../test/peers/graph/graph-simulator.ts';
import type { GraphSimulator, GraphState } from '../../test/peers/graph/graph-simulator.ts';
import { loadSeveraState } from '../../test/peers/severa/severa-simulator.ts';
import type { SeveraSimulator, SeveraState } from '../../test/peers/severa/severa-simulator.ts';

/**
 * Keeps the demo simulators' state between two `--demo` runs, beside the sync store, so the second run continues where
 * the first stopped: each simulator's own state snapshot (exportState), loaded with `start...Simulator({ state })`.
 * Item ids, ChangeKeys, Exchange sync states (EWS) or delta positions (Graph) and Severa timestamps all survive, so the
 * second run asks each mailbox once, finds nothing new and reports no changes.
 */

const STATE_DIR = 'demo-peers';
const EXCHANGE_FILES = { 'on-premises': 'ews-state.json', online: 'graph-state.json' } as const;
const SEVERA_FILE = 'severa-state.json';
/** What earlier versions of the demo saved instead (simulator seeds that could not keep sync states). */
const OLD_FILES = ['ews-seed.json', 'severa-seed.json'];

export type DemoExchange = keyof typeof EXCHANGE_FILES;

export type SavedDemoPeers = { severa: SeveraState } & ({ kind: 'on-premises'; ews: EwsState } | { kind: 'online'; graph: GraphState });

export class DemoStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DemoStateError';
  }
}

/** The saved simulators, or null when the demo starts afresh from its seeds. */
export function loadDemoPeerState(dataDir: string, kind: DemoExchange): SavedDemoPeers | null {
  const dir = join(dataDir, STATE_DIR);
  const has = (file: string) => existsSync(join(dir, file));
  const afresh = t('cli.demo.afresh', { dataDir });
  const exchangeFile = EXCHANGE_FILES[kind];
  const otherKind = kind === 'online' ? 'on-premises' : 'online';
  if (has(EXCHANGE_FILES[otherKind])) {
    throw new DemoStateError(t(otherKind === 'online' ? 'cli.demo.otherOnline' : 'cli.demo.otherOnPremises', { dataDir, afresh }));
  }
  if (!has(exchangeFile) && !has(SEVERA_FILE)) {
    if (OLD_FILES.some(has)) throw new DemoStateError(t('cli.demo.older', { dataDir, afresh }));
    return null;
  }
  const missing = [exchangeFile, SEVERA_FILE].filter((f) => !has(f));
  if (missing.length) throw new DemoStateError(t('cli.demo.incomplete', { dataDir, file: join(dir, missing[0]), afresh }));
  try {
    const severa = loadSeveraState(join(dir, SEVERA_FILE));
    return kind === 'online'
      ? { kind, graph: loadGraphState(join(dir, exchangeFile)), severa }
      : { kind, ews: loadEwsState(join(dir, exchangeFile)), severa };
  } catch (error) {
    throw new DemoStateError(`${(error as Error).message}\n${t('cli.demo.cannotLoad', { afresh })}`);
  }
}

export function saveDemoPeerState(dataDir: string, peers: { exchange: EwsSimulator | GraphSimulator; kind: DemoExchange; severa: SeveraSimulator }): void {
  const dir = join(dataDir, STATE_DIR);
  writeJsonAtomically(join(dir, EXCHANGE_FILES[peers.kind]), peers.exchange.exportState());
  writeJsonAtomically(join(dir, SEVERA_FILE), peers.severa.exportState());
}
