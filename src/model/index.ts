// The model stage: Qwen2 in TensorFlow.js over Hugging Face folders, LoRA in PEFT format, the tokenizer
// (with the embedded model's pruned vocabulary) and generation.
export { type Qwen2Config, parseConfig, readConfig, toHfConfig, makeConfig, weightShapes, parameterCount } from './config.js';
export { Qwen2Model, KvCache, type ForwardOptions } from './qwen2.js';
export { modelFingerprint } from './folder.js';
export {
  loadModel,
  loadModelAndTokenizer,
  saveModel,
  modelFromCheckpoint,
  randomModel,
  randomWeights,
  writeRandomCheckpoint,
  resolveModelDir,
  EMBEDDED_MODEL_DIR,
  wasmFootprint,
  type LoadOptions,
} from './load.js';
export {
  LoraAdapter,
  createLora,
  saveAdapter,
  loadAdapter,
  mergeAdapter,
  loraScaling,
  peftKey,
  moduleWeightName,
  LORA_MODULES,
  DEFAULT_TARGETS,
  type LoraModule,
  type LoraConfig,
} from './lora.js';
export { Tokenizer, loadTokenizer, buildPrunedVocab, saveTokenizerFiles, CHATML_TEMPLATE, QWEN25_DEFAULT_SYSTEM, type ChatMessage } from './tokenizer.js';
export { Checkpoint, SafetensorsFile, writeSafetensors, writeCheckpoint, decodeToF32, encodeFromF32, type Dtype, type NamedTensor, type TensorInfo } from './safetensors.js';
export { generate, generateBatch, sampleToken, promptIds, type GenerateOptions, type Generation, type Prompt } from './generate.js';
