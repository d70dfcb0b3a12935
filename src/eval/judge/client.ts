// The judge's Claude connection: the shared client in src/claude (on-disk cache keyed by model, prompt and
// parameters; retries with backoff on 429, 5xx, 529 and timeouts, honouring retry-after). The client is
// only built when Claude judges, so the offline path never opens a connection.
import type { ClaudeClient, ClaudeClientOptions } from '../../claude/client.js';
import type { Config } from '../../config/index.js';
import type { ChatClient } from './claude.js';

/** Adapts the shared client to the judge's one-question interface. */
export function chatClientOf(client: ClaudeClient): ChatClient {
  return {
    complete: async (req) =>
      (await client.complete({ system: req.system, messages: [{ role: 'user', content: req.user }], maxTokens: req.maxTokens, temperature: req.temperature })).text,
  };
}

/** The cached, retrying Claude client for the judge model of a config (cache: synth.cacheDir). */
export async function claudeClientFor(config: Config, extra: Partial<ClaudeClientOptions> = {}): Promise<ChatClient> {
  const { ClaudeClient } = await import('../../claude/client.js');
  return chatClientOf(
    new ClaudeClient({ model: config.eval.judgeModel, cacheDir: config.synth.cacheDir, concurrency: config.eval.judgeConcurrency, ...extra }),
  );
}
