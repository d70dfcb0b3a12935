// A local Anthropic-compatible server for tests (127.0.0.1, random port): the Messages API and the Message
// Batches API, with faults injected per prompt: 429 with retry-after, 500, 529, slow answers (past the
// client's timeout), malformed bodies and well-formed answers of another shape. Accepts the key as `x-api-key` or `authorization: Bearer`.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  | { kind: '429'; retryAfter?: string }
  | { kind: '500' }
  | { kind: '529' }
  | { kind: 'slow'; ms: number }
  | { kind: 'malformed' }
  /** HTTP 200 with JSON that is not a Messages API answer (content a string). */
  | { kind: 'shape' };

export interface MessagesBody {
  model: string;
  system?: string;
  max_tokens: number;
  temperature?: number;
  messages: { role: string; content: string }[];
}

export interface FakeAnthropicOptions {
  apiKey: string;
  /** The assistant text for a request. */
  respond: (body: MessagesBody) => string;
  /** A fault for this attempt at this prompt (attempt counts from 0 per prompt), or null to answer. */
  fault?: (prompt: string, attempt: number) => Fault | null;
}

export interface RecordedRequest {
  method: string;
  path: string;
  auth: 'x-api-key' | 'bearer' | 'none';
  prompt?: string;
  status: number;
}

export interface FakeAnthropic {
  url: string;
  requests: RecordedRequest[];
  /** Requests to POST /v1/messages (answered or not). */
  messageCalls(): number;
  close(): Promise<void>;
}

const errorBody = (type: string, message: string): string => JSON.stringify({ type: 'error', error: { type, message } });

function message(body: MessagesBody, text: string, id: string): Record<string, unknown> {
  return {
    id,
    type: 'message',
    role: 'assistant',
    model: body.model,
    content: [{ type: 'text', text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: JSON.stringify(body.messages).length >> 2, output_tokens: text.length >> 2 },
  };
}

export async function startFakeAnthropic(opts: FakeAnthropicOptions): Promise<FakeAnthropic> {
  const requests: RecordedRequest[] = [];
  const attempts = new Map<string, number>();
  const batches = new Map<string, { requests: { custom_id: string; params: MessagesBody }[]; polls: number }>();
  let nextId = 1;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0]!;
      const rec: RecordedRequest = { method: req.method ?? '', path, auth: 'none', status: 0 };
      requests.push(rec);
      const send = (status: number, body: string, headers: Record<string, string> = {}): void => {
        rec.status = status;
        if (res.destroyed) return;
        res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_${nextId++}`, ...headers });
        res.end(body);
      };
      const bearer = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
      const key = req.headers['x-api-key'];
      rec.auth = key ? 'x-api-key' : bearer ? 'bearer' : 'none';
      if ((key ?? bearer) !== opts.apiKey) return send(401, errorBody('authentication_error', 'invalid x-api-key'));

      let body: unknown = null;
      try {
        body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : null;
      } catch {
        return send(400, errorBody('invalid_request_error', 'body is not JSON'));
      }

      if (req.method === 'POST' && path === '/v1/messages') {
        const b = body as MessagesBody;
        const prompt = String(b.messages?.[b.messages.length - 1]?.content ?? '');
        rec.prompt = prompt;
        const attempt = attempts.get(prompt) ?? 0;
        attempts.set(prompt, attempt + 1);
        const fault = opts.fault?.(prompt, attempt) ?? null;
        if (fault?.kind === '429') return send(429, errorBody('rate_limit_error', 'slow down'), fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {});
        if (fault?.kind === '500') return send(500, errorBody('api_error', 'internal error'));
        if (fault?.kind === '529') return send(529, errorBody('overloaded_error', 'overloaded'));
        if (fault?.kind === 'malformed') return send(200, '{"id": "msg_torn", "content": [{"type": "te');
        if (fault?.kind === 'shape') return send(200, JSON.stringify({ id: 'msg_odd', type: 'message', content: 'plain text', usage: {} }));
        const answer = (): void => send(200, JSON.stringify(message(b, opts.respond(b), `msg_${nextId++}`)));
        if (fault?.kind === 'slow') {
          const timer = setTimeout(answer, fault.ms);
          res.on('close', () => clearTimeout(timer));
          return;
        }
        return answer();
      }

      if (req.method === 'POST' && path === '/v1/messages/batches') {
        const id = `msgbatch_${nextId++}`;
        batches.set(id, { requests: (body as { requests: { custom_id: string; params: MessagesBody }[] }).requests, polls: 0 });
        return send(200, JSON.stringify(batchObject(id, 'in_progress')));
      }
      const m = /^\/v1\/messages\/batches\/([^/]+)(\/results)?$/.exec(path);
      if (req.method === 'GET' && m) {
        const batch = batches.get(m[1]!);
        if (!batch) return send(404, errorBody('not_found_error', 'no such batch'));
        if (m[2]) {
          const lines = batch.requests.map((r) =>
            JSON.stringify({ custom_id: r.custom_id, result: { type: 'succeeded', message: message(r.params, opts.respond(r.params), `msg_${nextId++}`) } }),
          );
          return send(200, lines.join('\n') + '\n', { 'content-type': 'application/binary' });
        }
        // Ended on the second poll, so clients must poll.
        batch.polls++;
        return send(200, JSON.stringify(batchObject(m[1]!, batch.polls >= 2 ? 'ended' : 'in_progress', `${url}/v1/messages/batches/${m[1]}/results`)));
      }
      return send(404, errorBody('not_found_error', `no route ${req.method} ${path}`));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    messageCalls: () => requests.filter((r) => r.method === 'POST' && r.path === '/v1/messages').length,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function batchObject(id: string, status: string, resultsUrl?: string): Record<string, unknown> {
  return {
    id,
    type: 'message_batch',
    processing_status: status,
    request_counts: { processing: status === 'ended' ? 0 : 1, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
    ended_at: status === 'ended' ? new Date(0).toISOString() : null,
    created_at: new Date(0).toISOString(),
    expires_at: new Date(0).toISOString(),
    cancel_initiated_at: null,
    archived_at: null,
    results_url: status === 'ended' ? resultsUrl : null,
  };
}
