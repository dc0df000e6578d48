import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * ews-javascript-api throws an uncatchable TypeError when an HTTP 500 body is not a SOAP envelope. These tests run the
 * library in child processes against a local server that answers exactly that, and show: the bare library kills the
 * process; the guard alone contains it; the product's connector refuses the body before the library sees it.
 */

const NODE = path.resolve('node_modules/.bin/node');
const CHILD = path.resolve('test/exchange/fixtures/library-crash-child.ts');

interface ChildResult {
  exitCode: number;
  lines: Array<Record<string, unknown>>;
  stderr: string;
}

function runChild(mode: string, url: string): Promise<ChildResult> {
  return new Promise((resolve) => {
    execFile(NODE, [CHILD, mode, url], { timeout: 20_000 }, (error, stdout, stderr) => {
      const exitCode = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      const lines = stdout
        .split('\n')
        .filter((l) => l.trim().startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      resolve({ exitCode, lines, stderr });
    });
  });
}

let server: http.Server;
const bodies: Record<string, string> = {
  '/x/EWS/Exchange.asmx': '<x/>',
  '/html/EWS/Exchange.asmx': '<!DOCTYPE html><html><body><h1>Server Error in \'/EWS\' Application.</h1></body></html>',
};
let base = '';

beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(500, { 'content-type': 'text/html; charset=utf-8' });
      res.end(bodies[req.url ?? ''] ?? '<x/>');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

describe('HTTP 500 with a non-SOAP body', () => {
  it('crashes a process that uses the library bare (the bug this containment exists for)', async () => {
    const result = await runChild('bare', `${base}/x/EWS/Exchange.asmx`);
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain("Cannot read properties of null (reading 'Header')");
    expect(result.lines.find((l) => l.outcome === 'alive')).toBeUndefined();
  });

  it('is turned into a bad-response rejection by the process guard alone', async () => {
    const result = await runChild('guard-only', `${base}/x/EWS/Exchange.asmx`);
    expect(result.exitCode).toBe(0);
    const outcome = result.lines.find((l) => l.outcome === 'rejected');
    expect(outcome).toMatchObject({ code: 'bad-response', contained: 1 });
    expect(result.lines.at(-1)).toMatchObject({ outcome: 'alive' });
  });

  it('leaves errors that are not the library\'s to end the process as before', async () => {
    const result = await runChild('unrelated', `${base}/x/EWS/Exchange.asmx`);
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(/an unhandled application rejection|an application bug/);
    expect(result.lines.find((l) => l.outcome === 'alive')).toBeUndefined();
  });

  it.each([
    ['<x/>', 'x'],
    ['an HTML error page', 'html'],
  ])('with %s: the connector refuses it before the library parses it, and the process lives on', async (_what, route) => {
    const result = await runChild('connector', `${base}/${route}/EWS/Exchange.asmx`);
    expect(result.exitCode).toBe(0);
    const outcome = result.lines.find((l) => l.outcome === 'rejected');
    expect(outcome).toMatchObject({ code: 'bad-response', contained: 0 });
    expect(String(outcome?.message)).toMatch(/HTTP 500|DOCTYPE/);
    expect(result.lines.at(-1)).toMatchObject({ outcome: 'alive' });
  });
});
