// A Claude Messages client shared by the synthesis teacher and evaluation's judge: bounded concurrency,
// retries with backoff on 429, 5xx, 529 and timeouts (honouring retry-after), an on-disk cache, and the
// Message Batches API for large runs. The key comes only from ANTHROPIC_API_KEY (or the caller) and is
// never written to a file, a log or an error message.
import Anthropic from '@anthropic-ai/sdk';
import { ResponseCache, type CachedResponse } from './cache.js';

export interface ClaudeRequest {
  system?: string;
  messages: { role: 'user' | 'assistant'; content: string }[];
  maxTokens: number;
  temperature?: number;
}

export interface ClaudeResult extends CachedResponse {
  cached: boolean;
}

export type ClaudeEvent =
  | { type: 'request'; attempt: number }
  | { type: 'retry'; attempt: number; delayMs: number; reason: string }
  | { type: 'cache-hit' }
  | { type: 'failure'; reason: string };

export interface ClaudeClientOptions {
  model: string;
  cacheDir: string;
  /** Default: process.env.ANTHROPIC_API_KEY. */
  apiKey?: string;
  /** Default: process.env.ANTHROPIC_BASE_URL or the public API. */
  baseURL?: string;
  concurrency?: number;
  /** Retries after the first attempt (default 6). */
  maxRetries?: number;
  /** Per-request timeout (default 120 s). */
  timeoutMs?: number;
  /** First backoff delay; doubles per retry up to maxDelayMs (defaults 1 s, 60 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Batch polling interval (default 10 s). */
  pollMs?: number;
  onEvent?: (e: ClaudeEvent) => void;
  /** Injected for tests that check the delays without waiting for them. */
  sleep?: (ms: number) => Promise<void>;
}

export class ClaudeError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
    this.name = 'ClaudeError';
  }
}

export function hasApiKey(): boolean {
  return typeof process.env.ANTHROPIC_API_KEY === 'string' && process.env.ANTHROPIC_API_KEY.trim() !== '';
}

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A counting semaphore: at most `limit` tasks at once, in call order. */
export function limiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((r) => queue.push(r));
    active++;
    try {
      return await task();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
}

export class ClaudeClient {
  readonly model: string;
  readonly cache: ResponseCache;
  readonly stats = { requests: 0, cacheHits: 0, retries: 0, failures: 0 };
  private readonly sdk: Anthropic;
  private readonly secret: string;
  private readonly limit: <T>(task: () => Promise<T>) => Promise<T>;
  private readonly opts: Required<Pick<ClaudeClientOptions, 'maxRetries' | 'baseDelayMs' | 'maxDelayMs' | 'pollMs'>> & ClaudeClientOptions;

  constructor(options: ClaudeClientOptions) {
    const apiKey = options.apiKey ?? process.env.ANTHROPIC_API_KEY;
    if (!apiKey) throw new ClaudeError('ANTHROPIC_API_KEY is not set: the Claude teacher and judge need it (the offline ones do not)', null);
    this.secret = apiKey;
    this.model = options.model;
    this.cache = new ResponseCache(options.cacheDir);
    this.opts = { maxRetries: 6, baseDelayMs: 1000, maxDelayMs: 60_000, pollMs: 10_000, ...options };
    this.limit = limiter(Math.max(1, options.concurrency ?? 4));
    // The SDK's own retries are off: ours count, honour retry-after and report every attempt.
    this.sdk = new Anthropic({ apiKey, baseURL: options.baseURL ?? process.env.ANTHROPIC_BASE_URL, maxRetries: 0, timeout: options.timeoutMs ?? 120_000 });
  }

  /** The request as the API and the cache see it (model included, key never). */
  private params(req: ClaudeRequest): Anthropic.MessageCreateParamsNonStreaming {
    return {
      model: this.model,
      max_tokens: req.maxTokens,
      messages: req.messages,
      ...(req.system !== undefined ? { system: req.system } : {}),
      ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
    };
  }

  cacheKey(req: ClaudeRequest): string {
    return this.cache.keyOf(this.params(req));
  }

  /** One completion: from the cache, or from the API (with retries) and then cached. */
  async complete(req: ClaudeRequest): Promise<ClaudeResult> {
    const params = this.params(req);
    const key = this.cache.keyOf(params);
    const hit = this.cache.get(key);
    if (hit) {
      this.stats.cacheHits++;
      this.opts.onEvent?.({ type: 'cache-hit' });
      return { ...hit, cached: true };
    }
    const response = await this.limit(() => this.withRetries(() => this.sdk.messages.create(params)));
    const result = toCached(response);
    this.cache.set(key, params, result);
    return { ...result, cached: false };
  }

  private async withRetries<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      this.stats.requests++;
      this.opts.onEvent?.({ type: 'request', attempt });
      try {
        return await call();
      } catch (e) {
        const { retryable, reason, status, delayHintMs } = classify(e);
        if (!retryable || attempt >= this.opts.maxRetries) {
          this.stats.failures++;
          const msg = this.redact(`Claude request failed after ${attempt + 1} attempt(s): ${reason}`);
          this.opts.onEvent?.({ type: 'failure', reason: msg });
          throw new ClaudeError(msg, status);
        }
        const backoff = Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** attempt);
        const delayMs = delayHintMs ?? Math.round(backoff * (0.5 + Math.random() * 0.5));
        this.stats.retries++;
        this.opts.onEvent?.({ type: 'retry', attempt, delayMs, reason: this.redact(reason) });
        await (this.opts.sleep ?? defaultSleep)(delayMs);
      }
    }
  }

  /**
   * Many completions through the Message Batches API (half the price, asynchronous). Cached requests are
   * not sent; the others go in one batch, polled until it ends, and each success is cached. Returns one
   * result (or an Error) per request, in order.
   */
  async completeBatch(reqs: ClaudeRequest[], onPoll?: (status: string) => void): Promise<(ClaudeResult | Error)[]> {
    const out: (ClaudeResult | Error)[] = new Array(reqs.length);
    const pending: { i: number; key: string; params: Anthropic.MessageCreateParamsNonStreaming }[] = [];
    reqs.forEach((req, i) => {
      const params = this.params(req);
      const key = this.cache.keyOf(params);
      const hit = this.cache.get(key);
      if (hit) {
        this.stats.cacheHits++;
        out[i] = { ...hit, cached: true };
      } else pending.push({ i, key, params });
    });
    if (pending.length === 0) return out;
    const batch = await this.withRetries(() =>
      this.sdk.messages.batches.create({ requests: pending.map((p) => ({ custom_id: `r${p.i}`, params: p.params })) }),
    );
    let status = batch.processing_status;
    while (status !== 'ended') {
      await (this.opts.sleep ?? defaultSleep)(this.opts.pollMs);
      status = (await this.withRetries(() => this.sdk.messages.batches.retrieve(batch.id))).processing_status;
      onPoll?.(status);
    }
    const byId = new Map(pending.map((p) => [`r${p.i}`, p]));
    for await (const row of await this.withRetries(() => this.sdk.messages.batches.results(batch.id))) {
      const p = byId.get(row.custom_id);
      if (!p) continue;
      if (row.result.type === 'succeeded') {
        const result = toCached(row.result.message);
        this.cache.set(p.key, p.params, result);
        out[p.i] = { ...result, cached: false };
      } else {
        out[p.i] = new ClaudeError(`batch request ${row.custom_id}: ${row.result.type}`, null);
      }
    }
    for (const p of pending) out[p.i] ??= new ClaudeError(`batch request r${p.i}: no result`, null);
    return out;
  }

  /** Removes the key from any text that might leave this object. */
  private redact(text: string): string {
    return this.secret ? text.split(this.secret).join('[redacted]') : text;
  }
}

function toCached(message: Anthropic.Message): CachedResponse {
  const text = (message.content ?? [])
    .filter((b): b is Anthropic.TextBlock => b.type === 'text')
    .map((b) => b.text)
    .join('');
  return { text, stopReason: message.stop_reason ?? null, usage: { input_tokens: message.usage?.input_tokens, output_tokens: message.usage?.output_tokens } };
}

/** Whether an SDK error is worth retrying, and the server's requested delay when it gave one. */
function classify(e: unknown): { retryable: boolean; reason: string; status: number | null; delayHintMs?: number } {
  if (e instanceof Anthropic.APIConnectionTimeoutError) return { retryable: true, reason: 'timeout', status: null };
  if (e instanceof Anthropic.APIConnectionError) return { retryable: true, reason: `connection error (${e.message})`, status: null };
  if (e instanceof Anthropic.APIError) {
    const status = e.status ?? null;
    const retryable = status === 408 || status === 409 || status === 429 || (status !== null && status >= 500);
    return { retryable, reason: `HTTP ${status}: ${e.message}`, status, delayHintMs: retryAfterMs(e.headers) };
  }
  // A body that is not JSON (a proxy's error page, a torn response) may be transient.
  if (e instanceof SyntaxError) return { retryable: true, reason: `malformed response (${e.message})`, status: null };
  return { retryable: false, reason: (e as Error)?.message ?? String(e), status: null };
}

function retryAfterMs(headers: Headers | undefined): number | undefined {
  const ms = headers?.get('retry-after-ms');
  if (ms && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const s = headers?.get('retry-after');
  if (!s) return undefined;
  if (Number.isFinite(Number(s))) return Math.max(0, Number(s) * 1000);
  const date = Date.parse(s);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}
