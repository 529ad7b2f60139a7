import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The built binary (`pnpm build`): tests that need a real process (exit, signals, hangs) spawn it. */
export const BIN = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));

export interface Spawned {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from the first "error" on stderr to the process's exit (undefined without one). */
  exitAfterErrorMs?: number;
  timedOut: boolean;
}

/** Runs `efficientscale ...args` in `cwd` and kills it after `timeoutMs` (a hang is then reported, not waited for). */
export function spawnCli(args: string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<Spawned> {
  if (!fs.existsSync(BIN)) throw new Error(`${BIN} is missing: run pnpm build first`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let errorAt: number | undefined;
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
      if (errorAt === undefined && /(^|\n)error:|"error":/.test(stderr)) errorAt = performance.now();
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 60_000);
    let exitAt = 0;
    child.on('exit', () => (exitAt = performance.now()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const exitAfterErrorMs = errorAt === undefined ? undefined : exitAt - errorAt;
      resolve({ code, signal, stdout, stderr, exitAfterErrorMs, timedOut });
    });
  });
}
