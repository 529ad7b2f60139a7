import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { llamaConfig, tf } from '@efficientscale/core';
import { cli } from './test-util.js';
import { spawnCli } from './spawn-cli.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-clean-exit-'));
const config = path.join(tmp, 'config.json');
// A learning rate of 1e6 makes the loss NaN at step 3: an error after the progress bar has started.
const diverging = (out: string) => ['train', '--config', config, '--lr', '1e6', '--steps', '30', '--batch', '2', '--seq', '8', '--out', out, '--backend', 'cpu'];

beforeAll(async () => {
  await tf.setBackend('cpu');
  fs.writeFileSync(config, JSON.stringify(llamaConfig({ vocab: 256, hidden: 16, ffn: 32, layers: 1, heads: 2, maxPositions: 32 })));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('a training error ends the process', () => {
  it('the built CLI exits 1 within a second of printing the error', async () => {
    const r = await spawnCli(diverging(path.join(tmp, 'spawned')), { timeoutMs: 60_000 });
    expect(r.timedOut, `still running after 60 s; stderr:\n${r.stderr}`).toBe(false);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/error: training loss at step 3: expected a finite number, found NaN/);
    expect(r.exitAfterErrorMs).toBeLessThan(1000);
  });

  it('in process, the failed command leaves no timer behind (the progress bar is stopped)', async () => {
    // Fake timers count what the command leaves scheduled; setImmediate (the training loop's yield) stays real.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    try {
      const r = await cli(...diverging(path.join(tmp, 'in-process')));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/error: training loss at step 3/);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
