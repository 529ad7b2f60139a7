import { describe, expect, it } from 'vitest';
import { describeAdapter } from './adapter.js';
import { registration, tf } from './test-util.js';
import { registerWebGPUBackend, webgpuAdapter } from './register.js';
import { nodeGpu } from './node-gpu.js';

describe('describeAdapter', () => {
  it('names SwiftShader as CPU emulation and a GPU by vendor and architecture', () => {
    expect(describeAdapter({ vendor: 'google', architecture: 'swiftshader', device: 'swiftshader-device-subzero-', description: 'SwiftShader driver 5.0.0' })).toMatchObject({
      software: true,
      label: 'SwiftShader (CPU emulation)',
    });
    expect(describeAdapter({ vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H100 80GB HBM3' })).toMatchObject({
      software: false,
      label: 'nvidia hopper (NVIDIA H100 80GB HBM3)',
    });
    expect(describeAdapter({ vendor: 'mesa', architecture: '', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' }).software).toBe(true);
    expect(describeAdapter({ vendor: 'apple', architecture: 'metal-3' }, true).software).toBe(true);
  });
});

describe.skipIf(!registration.ok)('registerWebGPUBackend', () => {
  it('registers backend "webgpu" once, without making it the default, and names its adapter', async () => {
    expect(await registerWebGPUBackend()).toBe(registration);
    expect(tf.findBackendFactory('webgpu')).not.toBeNull();
    expect(webgpuAdapter()).toEqual(registration.ok && registration.adapter);
    // tfjs-backend-webgpu registers itself at priority 3 where navigator.gpu exists; ours is 0.
    expect(tf.getBackend()).not.toBe('webgpu');
  });

  it('refuses a software adapter when a hardware one is required', async () => {
    if (!registration.ok || !registration.adapter.software) return;
    expect(await registerWebGPUBackend({ hardwareOnly: true })).toEqual({ ok: false, reason: `only ${registration.adapter.label} was found` });
  });
});

describe('without SwiftShader or a GPU', () => {
  it('says in one line what is missing and what to install', async () => {
    const saved = { ...process.env };
    process.env.EFFICIENTSCALE_SWIFTSHADER_ICD = '/nonexistent/vk_swiftshader_icd.json';
    delete process.env.VK_ICD_FILENAMES;
    delete process.env.VK_DRIVER_FILES;
    try {
      const result = await nodeGpu(false);
      if (result.ok && !/SwiftShader/.test(result.via)) return; // a machine with a real GPU
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.reason).toMatch(/no GPU( adapter| Vulkan driver) and no SwiftShader to emulate one \(looked for .*apt-get install chromium libvulkan1/);
      expect(result.reason).not.toMatch(/\n/);
    } finally {
      for (const k of ['EFFICIENTSCALE_SWIFTSHADER_ICD', 'VK_ICD_FILENAMES', 'VK_DRIVER_FILES']) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });
});
