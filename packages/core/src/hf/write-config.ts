/** What config.json must say for transformers to read the files we write as they are. */
import type { ModelConfig } from '../model/config.js';

/**
 * We write every weight as float32: a source's `torch_dtype` / `dtype` (transformers 4 / 5) of bfloat16 or
 * float16 would make transformers cast on load, so both are set to float32 (added as torch_dtype if absent;
 * transformers 5 still reads it).
 */
export function float32Config(config: ModelConfig): ModelConfig {
  const out: ModelConfig = { ...config };
  if ('dtype' in out && out.dtype !== null) out.dtype = 'float32';
  if ('torch_dtype' in out || !('dtype' in out)) out.torch_dtype = 'float32';
  return out;
}
