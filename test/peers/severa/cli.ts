/**
 * Starts the Severa simulator from the command line, for the demo, manual tries and benchmarks:
 *   npm run peer:severa -- --port 8082 --data test/peers/demo/severa-demo.json [--rate 10] [--token-lifetime 3600]
 * Prints `listening on http://127.0.0.1:<port>` when ready; the API is under /rest-api.
 * `--state <file>` starts from a state snapshot instead of a seed; `--save-state <file>` writes one on SIGINT/SIGTERM.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadSeveraSeed, loadSeveraState, startSeveraSimulator } from './severa-simulator.ts';

const usage =
  'usage: npm run peer:severa -- --port <port> (--data <seed.json> | --state <state.json>) [--save-state <state.json>] [--rate <requests/s, 0 = none>] [--token-lifetime <seconds>] [--clock-skew-ms <ms>]';

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string', default: '0' },
        data: { type: 'string' },
        state: { type: 'string' },
        'save-state': { type: 'string' },
        rate: { type: 'string' },
        'token-lifetime': { type: 'string' },
        'clock-skew-ms': { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (e) {
    console.error(`${(e as Error).message}\n${usage}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(usage);
    return;
  }
  if (!values.data === !values.state) {
    console.error(`Give either --data <seed.json> or --state <state.json>.\n${usage}`);
    process.exit(2);
  }
  const number = (name: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isFinite(n) || n < 0) {
      console.error(`--${name} must be a non-negative number, not "${text}".`);
      process.exit(2);
    }
    return n;
  };
  const port = number('port', values.port);
  if (port === undefined || !Number.isInteger(port) || port > 65535) {
    console.error(`--port must be a port number (0 picks a free one).`);
    process.exit(2);
  }
  let start;
  try {
    start = values.state ? { state: loadSeveraState(values.state) } : { seed: loadSeveraSeed(values.data!) };
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
  const sim = await startSeveraSimulator({
    ...start,
    port,
    rateLimitPerSecond: number('rate', values.rate),
    tokenLifetimeSeconds: number('token-lifetime', values['token-lifetime']),
    clockSkewMs: values['clock-skew-ms'] === undefined ? undefined : Number(values['clock-skew-ms']),
  });
  console.log(`listening on http://127.0.0.1:${sim.port}`);
  const saveTo = values['save-state'];
  const stop = () => {
    let code = 0;
    if (saveTo) {
      try {
        // Written beside and renamed, so a stop at the wrong moment never leaves half a file.
        writeFileSync(`${saveTo}.tmp`, `${JSON.stringify(sim.exportState())}\n`);
        renameSync(`${saveTo}.tmp`, saveTo);
      } catch (e) {
        console.error(`Cannot save the Severa simulator state to ${saveTo}: ${(e as Error).message}`);
        code = 1;
      }
    }
    void sim.close().then(() => process.exit(code));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(`The Severa simulator could not start: ${(e as Error).message}`);
  process.exit(1);
});
