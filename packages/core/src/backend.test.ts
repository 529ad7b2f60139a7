import { describe, expect, it } from 'vitest';
import { tf } from './tf.js';
import { UserError } from './errors.js';
import { selectBackend, type BackendName } from './backend.js';

describe('selectBackend', () => {
  it('selects the stock cpu backend on request', async () => {
    const choice = await selectBackend('cpu');
    expect(choice.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
  });

  it('auto picks a backend that runs ops and says which', async () => {
    const choice = await selectBackend('auto');
    expect(tf.getBackend()).toBe(choice.name);
    expect(tf.add(tf.scalar(1), tf.scalar(2)).dataSync()[0]).toBe(3);
    expect(choice.detail).toMatch(/auto/);
  });

  it('names the missing optional package when an uninstalled backend is asked for', async () => {
    await expect(selectBackend('tensorflow')).rejects.toThrowError(UserError);
    await expect(selectBackend('tensorflow')).rejects.toThrowError(/backend tensorflow: expected @tensorflow\/tfjs-node, found that the optional package @tensorflow\/tfjs-node is not installed/);
    await expect(selectBackend('wasm')).rejects.toThrowError(/expected @tensorflow\/tfjs-backend-wasm/);
  });

  it('rejects an unknown backend name', async () => {
    await expect(selectBackend('tpu' as BackendName)).rejects.toThrowError('--backend: expected one of auto|cuda|webgpu|native|tensorflow|wasm|cpu, found "tpu"');
  });

  it('webgpu: runs on an adapter and names it, or says in one line why not; auto never takes SwiftShader', async () => {
    try {
      const choice = await selectBackend('webgpu');
      expect(choice.name).toBe('webgpu');
      expect(choice.detail).toMatch(/^WebGPU on /);
      expect(Array.from(await tf.add(tf.scalar(1), tf.scalar(2)).data())).toEqual([3]);
      if (/SwiftShader/.test(choice.detail)) {
        const auto = await selectBackend('auto');
        expect(auto.name).not.toBe('webgpu');
      }
    } catch (err) {
      expect(err).toBeInstanceOf(UserError);
      expect((err as Error).message).toMatch(/^backend webgpu: expected a WebGPU adapter through @efficientscale\/backend-webgpu, found: [^\n]+$/);
    } finally {
      await tf.setBackend('cpu');
    }
  });
});
