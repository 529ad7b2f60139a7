export { registerNativeBackend, nativeAvailable, nativeUnavailableReason, portedKernels, NATIVE_BACKEND_NAME } from './register.js';
export type { NativeRegistration } from './register.js';
export { NativeBackend } from './backend.js';
export { loadAddon } from './addon.js';
export type { NativeAddon, AddonLoad } from './addon.js';
