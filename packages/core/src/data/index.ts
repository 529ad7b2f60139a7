export { ByteTokenizer, tokenizerFromJSON, tokenizerByName, tokenizerKinds, type Tokenizer } from './tokenizer.js';
export { Gpt2Tokenizer } from './gpt2-tokenizer.js';
export { TokenizerJson, readTokenizerJson, tokenizerInDir, TOKENIZER_FILE, TOKENIZER_CONFIG_FILE } from './tokenizer-json.js';
export { loadDefaultCorpus, loadTextCorpus, type Corpus } from './corpus.js';
export { createRng, restoreRng, type Rng, type RngState } from './rng.js';
export { splitTrainVal, BatchSampler, evalBatches, type Batch, type SamplerOptions, type SamplerState } from './batches.js';
export { unigramEntropy } from './unigram.js';
