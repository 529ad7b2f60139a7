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
