// A Claude Messages client shared by the synthesis teacher and evaluation's judge: bounded concurrency,
// retries with backoff on 429, 5xx, 529 and timeouts (honouring retry-after) within a total deadline, a
// line while it waits on a silent server, an on-disk cache, and the Message Batches API for large runs.
// A refused key, a passed deadline or an answer of another shape stop every request at once (fatal).
// The key comes only from ANTHROPIC_API_KEY (or the caller) and is never written to a file, a log, an
// error message or the cache (an answer that echoes it is redacted).
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
  | { type: 'failure'; reason: string }
  /** Requests are in flight and the oldest has waited `waitedMs` (sent every progressMs while waiting). */
  | { type: 'waiting'; host: string; inFlight: number; waitedMs: number; deadlineMs: number };

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
  /** Per-attempt timeout (default 120 s). */
  timeoutMs?: number;
  /** Total time one request may take, retries and backoff included, before the run stops (default 10 min). */
  deadlineMs?: number;
  /** How often a 'waiting' event reports requests still without an answer (default 15 s, or a quarter of the deadline when shorter). */
  progressMs?: number;
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
    /** True when no further request can succeed (key refused, deadline passed, another API's answers): stop the run. */
    readonly fatal = false,
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
  private readonly opts: Required<Pick<ClaudeClientOptions, 'maxRetries' | 'baseDelayMs' | 'maxDelayMs' | 'pollMs' | 'timeoutMs' | 'deadlineMs' | 'progressMs'>> &
    ClaudeClientOptions;
  /** The API's host, for messages about waiting on it. */
  readonly host: string;
  /** The first fatal error; every later request fails with it, and requests in flight are aborted. */
  private fatal: ClaudeError | null = null;
  private readonly stop = new AbortController();
  /** Start times of the requests in flight, by request number. */
  private readonly inFlight = new Map<number, number>();
  private requestNumber = 0;
  private waitTimer: ReturnType<typeof setInterval> | null = null;

  constructor(options: ClaudeClientOptions) {
    const apiKey = options.apiKey ?? process.env.ANTHROPIC_API_KEY;
    if (!apiKey) throw new ClaudeError('ANTHROPIC_API_KEY is not set: the Claude teacher and judge need it (the offline ones do not)', null);
    this.secret = apiKey;
    this.model = options.model;
    this.cache = new ResponseCache(options.cacheDir);
    this.opts = { maxRetries: 6, baseDelayMs: 1000, maxDelayMs: 60_000, pollMs: 10_000, timeoutMs: 120_000, deadlineMs: 600_000, ...options, progressMs: 0 };
    this.opts.progressMs = options.progressMs ?? Math.min(15_000, this.opts.deadlineMs / 4);
    this.limit = limiter(Math.max(1, options.concurrency ?? 4));
    const baseURL = options.baseURL ?? process.env.ANTHROPIC_BASE_URL;
    this.host = hostOf(baseURL ?? 'https://api.anthropic.com');
    // The SDK's own retries are off: ours count, honour retry-after and report every attempt.
    this.sdk = new Anthropic({ apiKey, baseURL, maxRetries: 0, timeout: this.opts.timeoutMs });
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
    const response = await this.limit(() => this.withRetries((o) => this.sdk.messages.create(params, o)));
    const result = this.toCached(response);
    this.cache.set(key, params, result);
    return { ...result, cached: false };
  }

  private async withRetries<T>(call: (options: Anthropic.RequestOptions) => Promise<T>): Promise<T> {
    const started = Date.now();
    const id = this.requestNumber++;
    this.watch(id, started);
    try {
      for (let attempt = 0; ; attempt++) {
        if (this.fatal) throw this.fatal;
        this.stats.requests++;
        this.opts.onEvent?.({ type: 'request', attempt });
        const left = this.opts.deadlineMs - (Date.now() - started);
        try {
          return await call({ timeout: Math.max(1, Math.min(this.opts.timeoutMs, left)), signal: this.stop.signal });
        } catch (e) {
          if (this.fatal) throw this.fatal;
          const { retryable, reason, status, delayHintMs } = classify(e);
          const backoff = Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** attempt);
          const delayMs = delayHintMs ?? Math.round(backoff * (0.5 + Math.random() * 0.5));
          const pastDeadline = retryable && Date.now() + delayMs - started >= this.opts.deadlineMs;
          if (!retryable || attempt >= this.opts.maxRetries || pastDeadline) {
            this.stats.failures++;
            const refused = status === 401 || status === 403;
            const msg = this.redact(
              refused
                ? `${this.host} refused the API key (HTTP ${status}): check ANTHROPIC_API_KEY (${reason})`
                : pastDeadline
                  ? `no answer from ${this.host} within the deadline of ${Math.round(this.opts.deadlineMs / 1000)} s (${attempt + 1} attempt(s), last: ${reason})`
                  : `Claude request failed after ${attempt + 1} attempt(s): ${reason}`,
            );
            this.opts.onEvent?.({ type: 'failure', reason: msg });
            const err = new ClaudeError(msg, status, refused || pastDeadline);
            if (err.fatal) this.stopAll(err);
            throw err;
          }
          this.stats.retries++;
          this.opts.onEvent?.({ type: 'retry', attempt, delayMs, reason: this.redact(reason) });
          await (this.opts.sleep ?? defaultSleep)(delayMs);
        }
      }
    } finally {
      this.unwatch(id);
    }
  }

  /** Fails every request from now on with `err` and aborts those in flight. */
  private stopAll(err: ClaudeError): void {
    this.fatal ??= err;
    this.stop.abort();
  }

  /** Tracks a request in flight; while any is, a 'waiting' event every progressMs says for how long. */
  private watch(id: number, started: number): void {
    this.inFlight.set(id, started);
    if (this.waitTimer || !this.opts.onEvent) return;
    this.waitTimer = setInterval(() => {
      const oldest = Math.min(...this.inFlight.values());
      this.opts.onEvent?.({ type: 'waiting', host: this.host, inFlight: this.inFlight.size, waitedMs: Date.now() - oldest, deadlineMs: this.opts.deadlineMs });
    }, this.opts.progressMs);
    this.waitTimer.unref();
  }

  private unwatch(id: number): void {
    this.inFlight.delete(id);
    if (this.inFlight.size === 0 && this.waitTimer) {
      clearInterval(this.waitTimer);
      this.waitTimer = null;
    }
  }

  /** The text of a Messages API answer, checked for shape; an answer of another shape is fatal. */
  private toCached(message: unknown): CachedResponse {
    const m = message as Partial<Anthropic.Message> | null;
    const content = m && typeof m === 'object' ? m.content : undefined;
    if (!Array.isArray(content)) {
      const got = content === undefined ? 'no "content"' : `"content" of type ${typeof content}`;
      const err = new ClaudeError(
        this.redact(`${this.host} answered HTTP 200 with ${got} where the Messages API has a list of content blocks: is ANTHROPIC_BASE_URL an Anthropic-compatible endpoint?`),
        200,
        true,
      );
      this.stopAll(err);
      throw err;
    }
    const text = content
      .filter((b): b is Anthropic.TextBlock => !!b && typeof b === 'object' && b.type === 'text' && typeof (b as { text?: unknown }).text === 'string')
      .map((b) => b.text)
      .join('');
    return { text: this.redact(text), stopReason: typeof m?.stop_reason === 'string' ? m.stop_reason : null, usage: { input_tokens: m?.usage?.input_tokens, output_tokens: m?.usage?.output_tokens } };
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
    const batch = await this.withRetries((o) =>
      this.sdk.messages.batches.create({ requests: pending.map((p) => ({ custom_id: `r${p.i}`, params: p.params })) }, o),
    );
    let status = batch.processing_status;
    while (status !== 'ended') {
      await (this.opts.sleep ?? defaultSleep)(this.opts.pollMs);
      status = (await this.withRetries((o) => this.sdk.messages.batches.retrieve(batch.id, undefined, o))).processing_status;
      onPoll?.(status);
    }
    const byId = new Map(pending.map((p) => [`r${p.i}`, p]));
    for await (const row of await this.withRetries((o) => this.sdk.messages.batches.results(batch.id, undefined, o))) {
      const p = byId.get(row.custom_id);
      if (!p) continue;
      if (row.result.type === 'succeeded') {
        const result = this.toCached(row.result.message);
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

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
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
