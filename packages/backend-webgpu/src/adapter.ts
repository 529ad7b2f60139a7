/** What people are told about the adapter that runs: vendor, architecture, and whether it is a real GPU. */
export interface AdapterDescription {
  vendor: string;
  architecture: string;
  /** The driver's own description, when it gives one. */
  description: string;
  /** A CPU emulating a GPU (SwiftShader, lavapipe/llvmpipe, a fallback adapter): correct, but slow. */
  software: boolean;
  /** One line, e.g. "nvidia hopper (NVIDIA H100 80GB HBM3)" or "SwiftShader (CPU emulation)". */
  label: string;
}

interface InfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|software|microsoft basic render/i;

/** Describes a GPUAdapter's info (GPUAdapterInfo or the older requestAdapterInfo() result). */
export function describeAdapter(info: InfoLike | undefined, isFallbackAdapter = false): AdapterDescription {
  const vendor = info?.vendor ?? '';
  const architecture = info?.architecture ?? '';
  const description = info?.description || info?.device || '';
  const swiftshader = /swiftshader/i.test(`${architecture} ${description} ${info?.device ?? ''}`);
  const software = swiftshader || isFallbackAdapter || info?.isFallbackAdapter === true || SOFTWARE.test(`${architecture} ${description}`);
  let label: string;
  if (swiftshader) label = 'SwiftShader (CPU emulation)';
  else {
    const name = [vendor, architecture].filter(Boolean).join(' ') || 'unknown adapter';
    label = `${name}${description ? ` (${description})` : ''}${software ? ' (CPU emulation)' : ''}`;
  }
  return { vendor, architecture, description, software, label };
}
