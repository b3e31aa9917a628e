/**
 * A stand-in for the W&B service on 127.0.0.1 that records what W&B's JavaScript SDK (npm
 * `@wandb/sdk` 0.5.1) sends, so that tests can check what a run uploads without the network. Point
 * the SDK at it with WANDB_BASE_URL=server.baseUrl. It answers the three requests that SDK makes
 * (node_modules/@wandb/sdk/dist/internal/api.js and filestream.js):
 *   POST /graphql  `query Viewer`            -> the default entity ('fake-entity')
 *   POST /graphql  `mutation UpsertBucket`   -> the run: name (its id), project, displayName, config (a JSON string)
 *   POST /files/ENTITY/PROJECT/RUN/file_stream  {files: {'wandb-history.jsonl': {offset, content: [json lines]},
 *                                                       'wandb-summary.json': {offset: 0, content: [json]}}}
 *                                              or {complete: true, exitcode} when the run finishes
 * Requests with another API key get 401 (HTTP Basic, user 'api'); anything else gets 404. Both are
 * recorded in `rejected`. The server closes itself after `lifetimeMs` (default 120 s) if a test forgets to.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeWandbRun {
  entity: string;
  project: string;
  /** The run id (the SDK sends it as `name`). */
  name: string;
  displayName?: string;
  config: Record<string, unknown>;
  /** History rows by their file-stream offset. */
  history: Record<string, unknown>[];
  summary: Record<string, unknown>;
  /** Set when the SDK reports the run finished. */
  exitcode?: number;
}

export interface FakeWandb {
  baseUrl: string;
  /** Every request, as 'METHOD PATH', in arrival order. */
  requests: string[];
  /** Requests answered with an error status, as 'STATUS METHOD PATH'. */
  rejected: string[];
  /** Runs by 'entity/project/name'. */
  runs: Map<string, FakeWandbRun>;
  close(): Promise<void>;
}

export const FAKE_ENTITY = 'fake-entity';

type Json = Record<string, unknown>;

function readJson(req: IncomingMessage): Promise<Json> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(parts).toString('utf8')) as Json);
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: Json): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function upsertBucketReply(run: FakeWandbRun): Json {
  return {
    data: {
      upsertBucket: {
        bucket: {
          id: `bucket-${run.name}`,
          name: run.name,
          displayName: run.displayName ?? run.name,
          description: null,
          config: JSON.stringify(run.config),
          sweepName: null,
          project: { id: `project-${run.project}`, name: run.project, entity: { id: `entity-${run.entity}`, name: run.entity } },
        },
        inserted: true,
      },
    },
  };
}

/** Applies one file_stream post to the run it names. */
function applyFileStream(run: FakeWandbRun, body: Json): void {
  if (body.complete === true) {
    run.exitcode = Number(body.exitcode);
    return;
  }
  const files = (body.files ?? {}) as Record<string, { offset: number; content: string[] }>;
  const history = files['wandb-history.jsonl'];
  if (history)
    history.content.forEach((line, i) => {
      run.history[history.offset + i] = JSON.parse(line) as Json;
    });
  const summary = files['wandb-summary.json'];
  if (summary && summary.content.length > 0) run.summary = JSON.parse(summary.content.at(-1)!) as Json;
}

/** Starts the fake service on an ephemeral port of 127.0.0.1, accepting `apiKey`. */
export async function startFakeWandb(apiKey: string, lifetimeMs = 120_000): Promise<FakeWandb> {
  const requests: string[] = [];
  const rejected: string[] = [];
  const runs = new Map<string, FakeWandbRun>();
  const expectedAuth = `Basic ${Buffer.from(`api:${apiKey}`).toString('base64')}`;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const what = `${req.method} ${req.url}`;
    requests.push(what);
    const refuse = (status: number, message: string) => {
      rejected.push(`${status} ${what}`);
      reply(res, status, { errors: [{ message }] });
    };
    if (req.headers.authorization !== expectedAuth) return refuse(401, 'invalid API key');
    if (req.method !== 'POST') return refuse(404, 'not found');
    const body = await readJson(req);
    if (req.url === '/graphql') {
      const query = String(body.query ?? '');
      const vars = (body.variables ?? {}) as Json;
      if (/\bquery Viewer\b/.test(query))
        return reply(res, 200, { data: { viewer: { id: 'viewer-1', entity: FAKE_ENTITY, flags: '{}', teams: { edges: [] } } } });
      if (/\bmutation UpsertBucket\b/.test(query)) {
        const run: FakeWandbRun = {
          entity: String(vars.entity),
          project: String(vars.project),
          name: String(vars.name),
          displayName: typeof vars.displayName === 'string' ? vars.displayName : undefined,
          config: typeof vars.config === 'string' ? (JSON.parse(vars.config) as Json) : {},
          history: [],
          summary: {},
        };
        runs.set(`${run.entity}/${run.project}/${run.name}`, run);
        return reply(res, 200, upsertBucketReply(run));
      }
      return refuse(404, 'unknown GraphQL operation');
    }
    const stream = /^\/files\/([^/]+)\/([^/]+)\/([^/]+)\/file_stream$/.exec(req.url ?? '');
    const run = stream ? runs.get(`${stream[1]}/${stream[2]}/${stream[3]}`) : undefined;
    if (!run) return refuse(404, 'no such run');
    applyFileStream(run, body);
    return reply(res, 200, {});
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      rejected.push(`400 ${req.method} ${req.url}`);
      if (!res.headersSent) reply(res, 400, { errors: [{ message: e instanceof Error ? e.message : String(e) }] });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      clearTimeout(lifetime);
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closing;
  };
  const lifetime = setTimeout(() => void close(), lifetimeMs);
  lifetime.unref();
  const { port } = server.address() as AddressInfo;
  return { baseUrl: `http://127.0.0.1:${port}`, requests, rejected, runs, close };
}
