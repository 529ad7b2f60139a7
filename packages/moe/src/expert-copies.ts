/**
 * The dense SwiGLU FFN cut into g slices of its intermediate units: slice s keeps rows s·f..(s+1)·f of
 * gate and up and the same columns of down, with down scaled by `downScale` (g for weights, so that g
 * slices each weighted 1/g sum back to the dense FFN; g² for Adam's second moment).
 */
export interface DenseFfnData {
  gate: Float32Array; // [ffn, hidden]
  up: Float32Array; // [ffn, hidden]
  down: Float32Array; // [hidden, ffn]
  ffn: number;
  hidden: number;
}

export interface ExpertData {
  w1: Float32Array; // [f, hidden]
  w3: Float32Array; // [f, hidden]
  w2: Float32Array; // [hidden, f]
}

export function sliceFfn(d: DenseFfnData, g: number, downScale: number): ExpertData[] {
  const f = d.ffn / g;
  return Array.from({ length: g }, (_, s) => {
    const w2 = new Float32Array(d.hidden * f);
    for (let h = 0; h < d.hidden; h++) for (let j = 0; j < f; j++) w2[h * f + j] = d.down[h * d.ffn + s * f + j] * downScale;
    return {
      w1: d.gate.slice(s * f * d.hidden, (s + 1) * f * d.hidden),
      w3: d.up.slice(s * f * d.hidden, (s + 1) * f * d.hidden),
      w2,
    };
  });
}
