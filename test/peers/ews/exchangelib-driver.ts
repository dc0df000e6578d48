/**
 * Drives test/peers/exchangelib/drive_simulator.py: one long-lived python3-exchangelib process, a JSON command per
 * line in, a JSON result per line out. Shared by the exchangelib tests.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const DRIVER = fileURLToPath(new URL('../exchangelib/drive_simulator.py', import.meta.url));

export type StepResult = Record<string, unknown> & { step: string; ok: boolean; error?: string; message?: string };

export class ExchangelibDriver {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly lines: string[] = [];
  private waiting: ((line: string) => void) | null = null;
  private stderr = '';

  constructor(url: string) {
    this.proc = spawn('/usr/bin/python3', [DRIVER, url], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    createInterface({ input: this.proc.stdout }).on('line', (line) => {
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = null;
        w(line);
      } else this.lines.push(line);
    });
  }

  run(cmd: Record<string, unknown>): Promise<StepResult> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`exchangelib step ${String(cmd.step)} gave no answer; stderr:\n${this.stderr}`)), 45_000);
      const take = (line: string): void => {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(line) as StepResult);
        } catch {
          reject(new Error(`exchangelib printed something that is not JSON: ${line}\nstderr:\n${this.stderr}`));
        }
      };
      const queued = this.lines.shift();
      if (queued !== undefined) take(queued);
      else this.waiting = take;
      this.proc.stdin.write(`${JSON.stringify(cmd)}\n`);
    });
  }

  /** A step that must succeed; otherwise the test fails with exchangelib's own error. */
  async ok(cmd: Record<string, unknown>): Promise<StepResult> {
    const r = await this.run(cmd);
    if (!r.ok) throw new Error(`exchangelib step ${r.step} failed: ${r.error}: ${r.message}\n${String(r.trace ?? '')}`);
    return r;
  }

  close(): void {
    this.proc.stdin.end();
    this.proc.kill();
  }
}
