/**
 * `npm run peer:ews -- --port <p> --data <file.json>`: runs the EWS simulator until interrupted.
 * Prints `listening on http://127.0.0.1:<p>` once it accepts requests (scripts wait for that line).
 */
import { renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadEwsSeed, loadEwsState, startEwsSimulator } from './ews-simulator.ts';
import type { EwsFaultConfig } from './ews-simulator.ts';

const USAGE = `Usage: npm run peer:ews -- (--data <seed.json> | --state <state.json>) [--save-state <state.json>] [--port <p>]
                          [--clock-skew-ms <ms>] [--no-date-header] [--faults '<json>'] [--log]
                          [--streaming-minute-ms <ms>] [--keep-alive-ms <ms>]

  --data           seed file (see test/peers/ews/README.md), e.g. test/peers/demo/ews-demo.json
  --state          start from a state snapshot instead (written by --save-state or exportState())
  --save-state     on SIGINT/SIGTERM, write the whole state to this file before exiting
  --port           port on 127.0.0.1 (default 0: any free port)
  --clock-skew-ms  the server's clock runs this far ahead (HTTP Date header, LastModifiedTime)
  --no-date-header answers carry no HTTP Date header (as the seed's server.sendDateHeader: false)
  --faults         fault injection as JSON, e.g. '{"seed":7,"serverBusyRate":0.05}',
                   '{"faultStyle":{"httpStatus":200,"detail":false}}' (SOAP faults as some servers send them)
  --log            one line per request on stderr
  --streaming-minute-ms  how long one minute of GetStreamingEvents' ConnectionTimeout lasts (default 60000)
  --keep-alive-ms  interval of the streaming keep-alive (ConnectionStatus OK; default 30000)`;

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string' },
        data: { type: 'string' },
        state: { type: 'string' },
        'save-state': { type: 'string' },
        'clock-skew-ms': { type: 'string' },
        'no-date-header': { type: 'boolean' },
        faults: { type: 'string' },
        log: { type: 'boolean' },
        'streaming-minute-ms': { type: 'string' },
        'keep-alive-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    fail((e as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!values.data === !values.state) fail('give either --data <seed.json> or --state <state.json>');
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be 0..65535, got ${values.port}`);
  const skew = values['clock-skew-ms'] === undefined ? 0 : Number(values['clock-skew-ms']);
  if (!Number.isFinite(skew)) fail(`--clock-skew-ms must be a number, got ${values['clock-skew-ms']}`);
  const streaming: { minuteMs?: number; keepAliveMs?: number } = {};
  for (const [flag, key] of [['streaming-minute-ms', 'minuteMs'], ['keep-alive-ms', 'keepAliveMs']] as const) {
    const raw = values[flag];
    if (raw === undefined) continue;
    const ms = Number(raw);
    if (!Number.isFinite(ms) || ms <= 0) fail(`--${flag} must be a positive number of ms, got ${raw}`);
    streaming[key] = ms;
  }
  let faults: EwsFaultConfig | undefined;
  if (values.faults) {
    try {
      faults = JSON.parse(values.faults) as EwsFaultConfig;
    } catch (e) {
      fail(`--faults is not JSON: ${(e as Error).message}`);
    }
  }
  let start;
  try {
    start = values.state ? { state: loadEwsState(values.state) } : { seed: loadEwsSeed(values.data!) };
  } catch (e) {
    fail((e as Error).message);
  }
  const sim = await startEwsSimulator({
    ...start,
    port,
    clockSkewMs: skew,
    faults,
    streaming,
    onRequest: values.log ? (e) => process.stderr.write(`${JSON.stringify(e)}\n`) : undefined,
  }).catch((e: unknown) => fail(`Cannot start the EWS simulator: ${(e as Error).message}`));
  if (values['no-date-header']) sim.setSendDateHeader(false);
  const base = sim.url.replace(/\/EWS\/Exchange\.asmx$/, '');
  process.stdout.write(`listening on ${base}\nEWS endpoint: ${sim.url}\n`);
  const saveTo = values['save-state'];
  const stop = (): void => {
    let code = 0;
    if (saveTo) {
      try {
        // Written beside and renamed, so a stop at the wrong moment never leaves half a file.
        writeFileSync(`${saveTo}.tmp`, `${JSON.stringify(sim.exportState())}\n`);
        renameSync(`${saveTo}.tmp`, saveTo);
      } catch (e) {
        process.stderr.write(`Cannot save the EWS simulator state to ${saveTo}: ${(e as Error).message}\n`);
        code = 1;
      }
    }
    void sim.close().then(() => process.exit(code));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

void main();
