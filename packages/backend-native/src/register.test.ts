import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { blasConfig } from '../scripts/blas-config.mjs';
import { nativeAvailable, nativeUnavailableReason, portedKernels, registerNativeBackend } from './index.js';
import { tf } from './test-util.js';

const hasCompiler = spawnSync('sh', ['-c', 'command -v "${CXX:-g++}" && command -v make'], { encoding: 'utf8' }).status === 0;

describe('registerNativeBackend', () => {
  it('is available wherever a compiler and OpenBLAS are (as in CI, which installs libopenblas-dev)', () => {
    const blas = blasConfig();
    if (hasCompiler && blas.ok) {
      expect(nativeUnavailableReason()).toBeNull();
      expect(nativeAvailable()).toBe(true);
    } else {
      // Without them the package still installs, and says why the backend is missing.
      const reason = nativeUnavailableReason();
      expect(reason).toBeTruthy();
      expect(registerNativeBackend()).toEqual({ ok: false, reason });
    }
  });

  it.skipIf(!nativeAvailable())('registers backend "native" once, without making it the default', () => {
    const first = registerNativeBackend();
    expect(first).toMatchObject({ ok: true, name: 'native' });
    if (!first.ok) return;
    expect(first.threads).toBeGreaterThanOrEqual(1);
    expect(first.blas).toMatch(/OpenBLAS/);
    expect(registerNativeBackend()).toBe(first);
    expect(tf.findBackendFactory('native')).not.toBeNull();
    expect(portedKernels()).toContain('BatchMatMul');
    expect(portedKernels()).toContain('_FusedMatMul');
  });

  it.skipIf(!nativeAvailable())('recycles the memory of disposed outputs, but never memory user code has seen', () => {
    registerNativeBackend();
    tf.setBackend('native');
    const backend = tf.engine().backend as unknown as { pooled: number };
    const x = tf.fill([256, 256], 2);
    const y = tf.mul(x, 3); // native output, 256 KiB
    const seen = y.dataSync(); // escapes: must never be reused
    const z = tf.add(x, 1);
    const before = backend.pooled;
    tf.dispose([y, z]);
    expect(backend.pooled - before).toBe(256 * 256 * 4); // z's memory recycled, y's not
    const w = tf.sub(x, 7); // takes z's memory
    expect(backend.pooled).toBe(before);
    const v = tf.mul(x, 10);
    expect(seen[0]).toBe(6);
    expect(seen[65535]).toBe(6);
    expect(w.dataSync()[0]).toBe(-5);
    expect(v.dataSync()[0]).toBe(20);
    // a cpu kernel whose output aliases its input (slice of a whole row range as a subarray)
    const big = tf.mul(x, 1);
    const part = tf.stridedSlice(big, [0, 0], [128, 256], [1, 1]);
    big.dispose();
    const other = tf.mul(x, 5);
    expect(part.dataSync()[0]).toBe(2);
    tf.dispose([x, w, v, part, other]);
    tf.setBackend('cpu');
  });

  it.skipIf(!nativeAvailable())('shares storage with cpu: reading back a native tensor needs no conversion', () => {
    registerNativeBackend();
    tf.setBackend('native');
    const x = tf.tensor2d([[1, 2], [3, 4]]);
    const y = tf.cumsum(x, 1); // not ported: runs cpu's kernel on native's storage
    const z = tf.matMul(y, x); // ported
    expect(Array.from(z.dataSync())).toEqual([10, 14, 24, 34]);
    tf.dispose([x, y, z]);
    tf.setBackend('cpu');
  });
});
