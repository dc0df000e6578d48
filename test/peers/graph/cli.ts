/**
 * `npm run peer:graph -- --port <p> --data <file.json>`: runs the Microsoft Graph simulator until interrupted.
 * Prints `listening on https://127.0.0.1:<p>` once it accepts requests (scripts wait for that line), then where the
 * test CA is (trust it: the simulator is HTTPS only).
 */
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadGraphSeed, loadGraphState, startGraphSimulator } from './graph-simulator.ts';
import type { GraphFaultConfig } from './graph-simulator.ts';

const USAGE = `Usage: npm run peer:graph -- (--data <seed.json> | --state <state.json>) [--save-state <state.json>] [--port <p>]
                            [--ca-out <ca.pem>] [--clock-skew-ms <ms>] [--faults '<json>'] [--log]

  --data           seed file (see test/peers/graph/README.md), e.g. test/peers/demo/graph-demo.json
  --state          start from a state snapshot instead (written by --save-state or exportState())
  --save-state     on SIGINT/SIGTERM, write the whole state to this file before exiting
  --port           port on 127.0.0.1 (default 0: any free port)
  --ca-out         write the test CA certificate (PEM) here (default: a file in a new temporary folder)
  --clock-skew-ms  added to the HTTP Date header
  --faults         fault injection as JSON, e.g. '{"seed":7,"http503Rate":0.05}'
  --log            one JSON line per request on stderr`;

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
        'ca-out': { type: 'string' },
        'clock-skew-ms': { type: 'string' },
        faults: { type: 'string' },
        log: { type: 'boolean' },
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
  let faults: GraphFaultConfig | undefined;
  if (values.faults) {
    try {
      faults = JSON.parse(values.faults) as GraphFaultConfig;
    } catch (e) {
      fail(`--faults is not JSON: ${(e as Error).message}`);
    }
  }
  let start;
  try {
    start = values.state ? { state: loadGraphState(values.state) } : { seed: loadGraphSeed(values.data!) };
  } catch (e) {
    fail((e as Error).message);
  }
  const sim = await startGraphSimulator({
    ...start,
    port,
    clockSkewMs: skew,
    faults,
    onRequest: values.log ? (e) => process.stderr.write(`${JSON.stringify(e)}\n`) : undefined,
  }).catch((e: unknown) => fail(`Cannot start the Graph simulator: ${(e as Error).message}`));
  const caPath = values['ca-out'] ?? join(mkdtempSync(join(tmpdir(), 'graph-sim-ca-')), 'ca.pem');
  writeFileSync(caPath, sim.caCertificatePem);
  const a = sim.msalAuthority();
  process.stdout.write(
    `listening on ${sim.url}\n` +
      `CA certificate: ${caPath}\n` +
      `Graph endpoint: ${sim.graphUrl}\n` +
      `authority: ${a.authority} (knownAuthorities: ${a.knownAuthorities.join(', ')})\n`,
  );
  const saveTo = values['save-state'];
  const stop = (): void => {
    let code = 0;
    if (saveTo) {
      try {
        writeFileSync(`${saveTo}.tmp`, `${JSON.stringify(sim.exportState())}\n`);
        renameSync(`${saveTo}.tmp`, saveTo);
      } catch (e) {
        process.stderr.write(`Cannot save the Graph simulator state to ${saveTo}: ${(e as Error).message}\n`);
        code = 1;
      }
    }
    void sim.close().then(() => process.exit(code));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

void main();
