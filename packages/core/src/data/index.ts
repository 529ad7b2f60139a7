export { ByteTokenizer, builtInOrItself, tokenizerFromJSON, tokenizerByName, tokenizerKinds, type Tokenizer, type HuggingFaceTokenizer } from './tokenizer.js';
export { byteTokenizerJson, gpt2TokenizerJson, builtInTokenizerOf } from './byte-level-json.js';
export { Gpt2Tokenizer } from './gpt2-tokenizer.js';
export { TokenizerJson, readTokenizerJson, TOKENIZER_FILE, TOKENIZER_CONFIG_FILE } from './tokenizer-json.js';
export { loadDefaultCorpus, loadTextCorpus, loadCorpus, loadRecordedCorpus, EMBEDDED_CORPUS, type Corpus } from './corpus.js';
export { createRng, restoreRng, type Rng, type RngState } from './rng.js';
export { splitTrainVal, BatchSampler, evalBatches, type Batch, type SamplerOptions, type SamplerState } from './batches.js';
export { unigramEntropy } from './unigram.js';
