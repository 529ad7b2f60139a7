/**
 * navigator.gpu for Node: Dawn's binding (npm package `webgpu`, an optional peer dependency). On Linux
 * Dawn runs on Vulkan; which Vulkan drivers it sees is chosen here, before Dawn starts:
 * - VK_ICD_FILENAMES / VK_DRIVER_FILES set by the user: left alone;
 * - else the hardware drivers installed system-wide (NVIDIA, AMD, Intel ICD files), without Mesa's
 *   lavapipe, which Dawn refuses (and says so on stderr);
 * - else, unless a hardware adapter is required, SwiftShader, the CPU Vulkan driver that Chromium ships
 *   (Debian/Ubuntu: apt-get install chromium), or the ICD file named by EFFICIENTSCALE_SWIFTSHADER_ICD.
 * Node modules come through process.getBuiltinModule, so that this file bundles for a browser untouched.
 */

type Fs = typeof import('node:fs');
type Path = typeof import('node:path');
type Os = typeof import('node:os');

interface NodeProcess {
  env: Record<string, string | undefined>;
  platform: string;
  getBuiltinModule(name: string): unknown;
}
const proc = (globalThis as unknown as { process: NodeProcess }).process;
const fs = () => proc.getBuiltinModule('node:fs') as Fs;
const path = () => proc.getBuiltinModule('node:path') as Path;
const os = () => proc.getBuiltinModule('node:os') as Os;

/** Where Debian/Ubuntu, Fedora and Arch put Chromium's SwiftShader ICD file. */
export const SWIFTSHADER_ICD_CANDIDATES = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib64/chromium-browser/vk_swiftshader_icd.json',
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
  '/opt/google/chrome/vk_swiftshader_icd.json',
];

const ICD_DIRS = ['/etc/vulkan/icd.d', '/usr/share/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
const SOFTWARE_ICD = /lvp_|lavapipe|swiftshader|llvmpipe/i;

/** Hardware Vulkan driver files installed system-wide (Linux), software ones left out. */
export function hardwareIcdFiles(dirs = ICD_DIRS): string[] {
  const found: string[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = fs().readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names.sort()) if (name.endsWith('.json') && !SOFTWARE_ICD.test(name)) found.push(path().join(dir, name));
  }
  return found;
}

/** Whether a GPU device node exists (NVIDIA's, or a DRM render node of AMD, Intel and others). */
export function gpuDevicePresent(): boolean {
  if (fs().existsSync('/dev/nvidiactl') || fs().existsSync('/dev/nvidia0')) return true;
  try {
    return fs().readdirSync('/dev/dri').some((n) => n.startsWith('renderD'));
  } catch {
    return false;
  }
}

/** The SwiftShader ICD file to use, or null. */
export function swiftShaderIcd(): string | null {
  const override = proc.env.EFFICIENTSCALE_SWIFTSHADER_ICD;
  if (override) return fs().existsSync(override) ? override : null;
  return SWIFTSHADER_ICD_CANDIDATES.find((p) => fs().existsSync(p)) ?? null;
}

export type GpuLoad = { ok: true; gpu: GPU; adapter: GPUAdapter; via: string } | { ok: false; reason: string };

interface DawnModule {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

async function loadDawn(): Promise<{ ok: true; dawn: DawnModule } | { ok: false; reason: string }> {
  const name = 'webgpu';
  try {
    return { ok: true, dawn: (await import(/* @vite-ignore */ name)) as DawnModule };
  } catch (err) {
    const text = String((err as Error)?.message ?? err);
    if (/Cannot find (module|package) 'webgpu'|ERR_MODULE_NOT_FOUND/.test(text)) {
      return { ok: false, reason: 'the optional package webgpu (Dawn for Node) is not installed (npm i webgpu)' };
    }
    return { ok: false, reason: `the package webgpu failed to load: ${text.split('\n')[0]}` };
  }
}

async function requestAdapter(dawn: DawnModule): Promise<{ gpu: GPU; adapter: GPUAdapter | null }> {
  const gpu = dawn.create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  return { gpu, adapter };
}

const isSoftware = (a: GPUAdapter) => /swiftshader|llvmpipe|lavapipe/i.test(`${a.info?.architecture} ${a.info?.description} ${a.info?.device}`);

/**
 * Starts Dawn and returns an adapter: a hardware one when there is one, else SwiftShader unless
 * `hardwareOnly`. Never throws: says why not.
 */
export async function nodeGpu(hardwareOnly: boolean): Promise<GpuLoad> {
  const userDrivers = proc.env.VK_ICD_FILENAMES || proc.env.VK_DRIVER_FILES;
  if (proc.platform === 'linux' && hardwareOnly && !userDrivers && !gpuDevicePresent()) return { ok: false, reason: 'no GPU device' };
  const loaded = await loadDawn();
  if (!loaded.ok) return loaded;
  const { dawn } = loaded;
  // Dawn's classes (GPUBufferUsage, GPUMapMode, ...) as globals, as in a browser: tfjs-backend-webgpu uses them.
  for (const [k, v] of Object.entries(dawn.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  const env = proc.env;
  if (proc.platform !== 'linux') {
    const { gpu, adapter } = await requestAdapter(dawn);
    if (!adapter) return { ok: false, reason: 'Dawn found no GPU adapter' };
    if (hardwareOnly && isSoftware(adapter)) return { ok: false, reason: 'only a software adapter was found' };
    return { ok: true, gpu, adapter, via: 'Dawn' };
  }
  if (env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES) {
    const { gpu, adapter } = await requestAdapter(dawn);
    const files = env.VK_ICD_FILENAMES ?? env.VK_DRIVER_FILES;
    if (!adapter) return { ok: false, reason: `Dawn found no usable Vulkan adapter with the drivers in VK_ICD_FILENAMES/VK_DRIVER_FILES (${files})` };
    if (hardwareOnly && isSoftware(adapter)) return { ok: false, reason: 'only a software adapter was found' };
    return { ok: true, gpu, adapter, via: `Dawn on Vulkan (${files})` };
  }
  // Without a GPU device node the hardware drivers would only complain on stderr; skip them.
  const hardware = gpuDevicePresent() ? hardwareIcdFiles() : [];
  if (hardware.length > 0) {
    env.VK_ICD_FILENAMES = hardware.join(':');
    const { gpu, adapter } = await requestAdapter(dawn);
    if (adapter && !isSoftware(adapter)) return { ok: true, gpu, adapter, via: 'Dawn on Vulkan' };
    delete env.VK_ICD_FILENAMES;
  }
  if (hardwareOnly) return { ok: false, reason: hardware.length > 0 ? `no adapter from the Vulkan drivers ${hardware.join(', ')}` : gpuDevicePresent() ? 'no hardware Vulkan driver is installed' : 'no GPU device' };
  const icd = swiftShaderIcd();
  if (!icd) {
    return {
      ok: false,
      reason:
        `no GPU${hardware.length > 0 ? ' adapter' : ' Vulkan driver'} and no SwiftShader to emulate one ` +
        `(looked for ${SWIFTSHADER_ICD_CANDIDATES[0]}; Debian/Ubuntu: apt-get install chromium libvulkan1, or set EFFICIENTSCALE_SWIFTSHADER_ICD)`,
    };
  }
  env.VK_ICD_FILENAMES = icd;
  // SwiftShader's window-system code wants a runtime directory even when nothing is drawn.
  if (!env.XDG_RUNTIME_DIR || !fs().existsSync(env.XDG_RUNTIME_DIR)) env.XDG_RUNTIME_DIR = fs().mkdtempSync(path().join(os().tmpdir(), 'efficientscale-xdg-'));
  const { gpu, adapter } = await requestAdapter(dawn);
  if (!adapter) {
    return { ok: false, reason: `Dawn found no adapter on SwiftShader (${icd}); is the Vulkan loader installed (apt-get install libvulkan1)?` };
  }
  return { ok: true, gpu, adapter, via: `Dawn on SwiftShader (${icd})` };
}
