import { parseArgs } from 'node:util';
import { formatSoakResult, runSoak } from './soak-harness.ts';

/**
 * `npm run soak -- --seed N --cycles N --users N [--exchange ews|graph | --moves] [--kill-share 0.35] [--users-at-once N] [--no-faults] [--no-series] [--real-time [--window-ms 6000]] [--quiet] [--json]`
 * A longer chaos soak than CI's, on on-premises Exchange (EWS, the default) or Exchange Online (Graph), or with
 * `--moves` on a hybrid organization of both whose users' mailboxes move between them mid-run; prints cycles, kills,
 * faults per kind, the moves, items per side, duplicates and losses.
 * Exit code 0 when there is no duplicate, no loss and no other disagreement; 1 otherwise; 2 for bad arguments.
 */

const USAGE =
  'Usage: npm run soak -- [--seed N] [--cycles N] [--users N] [--exchange ews|graph | --moves] [--kill-share 0..1] [--users-at-once 1..27] [--no-faults] [--no-series] [--real-time [--window-ms N]] [--quiet] [--json]\n' +
  '  --moves: a hybrid organization (on-premises Exchange over EWS + Exchange Online over Graph); users\' mailboxes move between them mid-run';

function wholeNumber(value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} takes a whole number from ${min} to ${max}, not "${value}".`);
  return n;
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        seed: { type: 'string' },
        cycles: { type: 'string' },
        users: { type: 'string' },
        exchange: { type: 'string' },
        'kill-share': { type: 'string' },
        'users-at-once': { type: 'string' },
        'no-faults': { type: 'boolean' },
        'no-series': { type: 'boolean' },
        'real-time': { type: 'boolean' },
        moves: { type: 'boolean' },
        'window-ms': { type: 'string' },
        quiet: { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let seed: number, cycles: number, users: number, killShare: number, exchange: 'ews' | 'graph', usersAtOnce: number | undefined;
  try {
    seed = wholeNumber(values.seed, 'seed', 1, 0, 2 ** 32 - 1);
    cycles = wholeNumber(values.cycles, 'cycles', 60, 1, 100_000);
    users = wholeNumber(values.users, 'users', 5, 1, 200);
    if (values.exchange !== undefined && values.exchange !== 'ews' && values.exchange !== 'graph') throw new Error(`--exchange takes ews (on-premises) or graph (Exchange Online), not "${values.exchange}".`);
    exchange = (values.exchange ?? 'ews') as 'ews' | 'graph';
    if (values.moves && values.exchange !== undefined) throw new Error('--moves runs on both Exchanges (a hybrid organization): leave --exchange out.');
    if (values.moves && values['real-time']) throw new Error('--moves runs sync --once cycles: leave --real-time out.');
    // 1: the same course every run (as CI's bounded soak); absent: the product's default, interleavings vary with timing.
    usersAtOnce = values['users-at-once'] === undefined ? undefined : wholeNumber(values['users-at-once'], 'users-at-once', 8, 1, 27);
    killShare = values['kill-share'] === undefined ? 0.35 : Number(values['kill-share']);
    if (!(killShare >= 0 && killShare <= 1)) throw new Error(`--kill-share takes a number from 0 to 1, not "${values['kill-share']}".`);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const result = await runSoak({
    seed,
    exchange,
    cycles,
    users,
    killShare,
    ...(usersAtOnce ? { usersAtOnce } : {}),
    faults: !values['no-faults'],
    series: !values['no-series'],
    ...(values.moves ? { moves: true } : {}),
    // Real time on: each chaos cycle is a window of sync --watch (soak-harness.ts).
    ...(values['real-time'] ? { realTime: { windowMs: wholeNumber(values['window-ms'], 'window-ms', 6000, 1000, 600_000) } } : {}),
    log: values.quiet || values.json ? undefined : (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatSoakResult(result)}\n`);
  return result.duplicates === 0 && result.losses === 0 && result.mismatches === 0 && result.quiet ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`The soak stopped on an unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
