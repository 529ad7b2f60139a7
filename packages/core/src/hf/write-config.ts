/** What config.json must say for transformers to read the files we write as they are. */
import type { StoredFloat } from '../io/dtypes.js';
import type { ModelConfig } from '../model/config.js';

const TORCH_NAMES: Record<StoredFloat, string> = { F32: 'float32', BF16: 'bfloat16', F16: 'float16' };

/**
 * The config with `torch_dtype` / `dtype` (transformers 4 / 5) saying how the weights are stored, so that
 * transformers does not cast on load: set where present (torch_dtype added if neither is; transformers 5
 * still reads it).
 */
export function storedDtypeConfig(config: ModelConfig, dtype: StoredFloat): ModelConfig {
  const out: ModelConfig = { ...config };
  if ('dtype' in out && out.dtype !== null) out.dtype = TORCH_NAMES[dtype];
  if ('torch_dtype' in out || !('dtype' in out)) out.torch_dtype = TORCH_NAMES[dtype];
  return out;
}

/** We write every weight of a trained model as float32: the config says so. */
export function float32Config(config: ModelConfig): ModelConfig {
  return storedDtypeConfig(config, 'F32');
}
