/**
 * Models by Hugging Face hub id (`facebook/encodec_24khz`, optionally `@revision`), downloaded with the hub's
 * own JavaScript client (@huggingface/hub) into the cache that Python's huggingface_hub uses
 * (https://huggingface.co/docs/huggingface_hub/guides/manage-cache): `models--ORG--NAME/blobs/ETAG`,
 * `snapshots/COMMIT/FILE` (links to the blobs) and `refs/REVISION` (the commit). The environment is
 * Python's (https://huggingface.co/docs/huggingface_hub/package_reference/environment_variables):
 * HF_HUB_CACHE / HF_HOME for the cache, HF_ENDPOINT for the server, HF_TOKEN (or the token file) for
 * private and gated models, HF_HUB_OFFLINE=1 to never touch the network. A model Python downloaded is
 * found there and not fetched again; a path that exists locally always wins over a hub id.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { downloadFileToCacheDir, getRepoFolderName, HubApiError, modelInfo } from '@huggingface/hub';
import { ConfigError, NotFoundError } from './errors.js';
import { silentProgress, type ProgressSink } from './progress.js';

export interface HubModelId {
  /** ORG/NAME. */
  name: string;
  /** A branch, tag or commit hash; default `main`. */
  revision: string;
}

export interface ResolveModelOptions {
  /** The files the caller reads from the model folder (only these are downloaded). */
  files: string[];
  /** Download progress in bytes. */
  progress?: ProgressSink;
}

const COMMIT_HASH = /^[0-9a-f]{40}$/;
const HUB_ID = /^([A-Za-z0-9][\w.-]*\/[\w.-]+)(?:@([\w./-]+))?$/;
const DEFAULT_ENDPOINT = 'https://huggingface.co';

/** `ORG/NAME[@REVISION]` parsed, or undefined when the string is not shaped like a hub model id. */
export function parseHubId(s: string): HubModelId | undefined {
  const m = HUB_ID.exec(s);
  if (!m || m[1]!.includes('..')) return undefined;
  // The revision names a file under refs/ in the cache: no empty, '.' or '..' segments.
  if (m[2]?.split('/').some((part) => part === '' || part === '.' || part === '..')) return undefined;
  return { name: m[1]!, revision: m[2] ?? 'main' };
}

/** An environment variable, with an empty value read as unset (`HF_HOME= wavelm ...`). */
function env(name: string): string | undefined {
  const v = process.env[name];
  return v === undefined || v === '' ? undefined : v;
}

/** A path from the environment with `~` expanded, as huggingface_hub's expanduser does. */
function envPath(name: string): string | undefined {
  return env(name)?.replace(/^~(?=$|\/)/, homedir());
}

/**
 * huggingface_hub's cache folder: HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, HF_HOME/hub, XDG_CACHE_HOME/huggingface/hub,
 * ~/.cache/huggingface/hub.
 */
export function hubCachePath(): string {
  return envPath('HF_HUB_CACHE') ?? envPath('HUGGINGFACE_HUB_CACHE') ?? join(hfHome(), 'hub');
}

function hfHome(): string {
  return envPath('HF_HOME') ?? join(envPath('XDG_CACHE_HOME') ?? join(homedir(), '.cache'), 'huggingface');
}

function offline(): boolean {
  return ['1', 'ON', 'YES', 'TRUE'].includes((env('HF_HUB_OFFLINE') ?? '').toUpperCase());
}

/** HF_TOKEN, else the token file `huggingface-cli login` writes (HF_TOKEN_PATH or HF_HOME/token). */
function hubToken(): string | undefined {
  const token = env('HF_TOKEN');
  if (token) return token;
  const file = envPath('HF_TOKEN_PATH') ?? join(hfHome(), 'token');
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The repo's folder in the cache: `HF_HUB_CACHE/models--ORG--NAME`. */
export function hubCacheFolder(name: string): string {
  return join(hubCachePath(), getRepoFolderName({ type: 'model', name }));
}

/** The cached snapshot that holds all `files` for a revision (a commit, or a ref recorded in refs/), else undefined. */
export function cachedSnapshot(id: HubModelId, files: string[]): string | undefined {
  const storage = hubCacheFolder(id.name);
  let commit = id.revision;
  if (!COMMIT_HASH.test(commit)) {
    try {
      commit = readFileSync(join(storage, 'refs', id.revision), 'utf8').trim();
    } catch {
      return undefined;
    }
  }
  const dir = join(storage, 'snapshots', commit);
  return files.every((f) => existsSync(join(dir, f))) ? dir : undefined;
}

/**
 * A fetch that reports download progress: the client probes each file with a `Range: bytes=0-0` request
 * on its `resolve` URL (whose answer gives the size), then fetches it whole, or for Xet-stored files in
 * ranges from the Xet servers; every body after a probe counts towards that file. `finish` ends the last bar.
 */
function progressFetch(progress: ProgressSink): { fetch: typeof fetch; finish(): void } {
  let active = false;
  const finish = () => {
    if (active) progress.stop();
    active = false;
  };
  const counting: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (new Headers(init?.headers).get('Range') === 'bytes=0-0' && url.includes('/resolve/')) {
      const total = Number(response.headers.get('x-linked-size') ?? response.headers.get('content-range')?.split('/').pop());
      finish();
      progress.start(Number.isFinite(total) ? total : 0, decodeURIComponent(url.slice(url.lastIndexOf('/') + 1)));
      active = true;
      return response;
    }
    if (!active || !response.body || url.includes('/api/')) return response;
    const counter = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        progress.tick(chunk.byteLength);
        controller.enqueue(chunk);
      },
    });
    return new Response(response.body.pipeThrough(counter), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
  return { fetch: counting, finish };
}

/** Runs `fn` with console.debug/info silenced: the client logs each download there, which would corrupt --json on stdout. */
async function quietConsole<T>(fn: () => Promise<T>): Promise<T> {
  const { debug, info } = console;
  console.debug = () => {};
  console.info = () => {};
  try {
    return await fn();
  } finally {
    console.debug = debug;
    console.info = info;
  }
}

function networkFailure(e: unknown): boolean {
  return e instanceof TypeError && /fetch failed/i.test(e.message);
}

function hubError(id: HubModelId, endpoint: string, e: unknown): Error {
  if (e instanceof HubApiError) {
    const auth =
      e.statusCode === 401 || e.statusCode === 403 ? '; for a private or gated model set HF_TOKEN (or run huggingface-cli login)' : '';
    return new NotFoundError(
      `${id.name}@${id.revision}: the hub at ${endpoint} answered HTTP ${e.statusCode} (${e.message}); check the id and revision${auth}`,
      { subject: id.name, cause: e },
    );
  }
  if (e instanceof Error && /cannot get path info/.test(e.message))
    return new NotFoundError(`${id.name}@${id.revision}: ${e.message.replace('cannot get path info for ', 'the repository has no ')}`, {
      subject: id.name,
      cause: e,
    });
  return new NotFoundError(
    `${id.name}@${id.revision}: cannot reach the hub at ${endpoint} (${e instanceof Error ? e.message : String(e)}) and the model ` +
      `is not in the cache ${hubCacheFolder(id.name)}; connect, set HF_ENDPOINT to a mirror, or give a local folder`,
    { subject: id.name, cause: e },
  );
}

/** Downloads `files` of a hub model into the cache (skipping what is there) and returns the snapshot folder. */
async function downloadSnapshot(id: HubModelId, files: string[], progress: ProgressSink): Promise<string> {
  const hubUrl = (env('HF_ENDPOINT') ?? DEFAULT_ENDPOINT).replace(/\/+$/, '');
  const accessToken = hubToken();
  const { fetch: fetchWithProgress, finish } = progressFetch(progress);
  const storage = hubCacheFolder(id.name);
  try {
    return await quietConsole(async () => {
      const commit = COMMIT_HASH.test(id.revision)
        ? id.revision
        : (
            await modelInfo({
              name: id.name,
              revision: id.revision,
              additionalFields: ['sha'],
              hubUrl,
              accessToken,
              fetch: fetchWithProgress,
            })
          ).sha;
      if (typeof commit !== 'string' || !COMMIT_HASH.test(commit))
        throw new NotFoundError(`${id.name}@${id.revision}: the hub at ${hubUrl} gave no commit for this revision`, { subject: id.name });
      if (commit !== id.revision) {
        // As huggingface_hub does, so that offline runs (Python's or ours) find the revision's commit.
        mkdirSync(dirname(join(storage, 'refs', id.revision)), { recursive: true });
        writeFileSync(join(storage, 'refs', id.revision), commit);
      }
      for (const path of files)
        await downloadFileToCacheDir({
          repo: { type: 'model', name: id.name },
          path,
          revision: commit,
          hubUrl,
          accessToken,
          cacheDir: hubCachePath(),
          fetch: fetchWithProgress,
        });
      finish();
      return join(storage, 'snapshots', commit);
    });
  } catch (e) {
    finish();
    if (e instanceof NotFoundError) throw e;
    const cached = networkFailure(e) ? cachedSnapshot(id, files) : undefined;
    if (cached) return cached;
    throw hubError(id, hubUrl, e);
  }
}

/**
 * A model folder: `idOrPath` itself when it exists locally, else the cached snapshot of the hub model it
 * names (downloading the missing `files` unless HF_HUB_OFFLINE=1). When the hub cannot be reached, a
 * complete cached snapshot of the revision is used, as huggingface_hub does.
 */
export async function resolveModelPath(idOrPath: string, options: ResolveModelOptions): Promise<string> {
  if (existsSync(idOrPath)) return idOrPath;
  const id = parseHubId(idOrPath);
  if (!id)
    throw new NotFoundError(`${idOrPath}: no such file or folder (nor a Hugging Face hub id like facebook/encodec_24khz[@revision])`, {
      subject: idOrPath,
    });
  if (options.files.length === 0) throw new ConfigError('resolveModelPath: no files named to fetch');
  const cached = COMMIT_HASH.test(id.revision) || offline() ? cachedSnapshot(id, options.files) : undefined;
  if (cached) return cached;
  if (offline()) {
    throw new NotFoundError(
      `${idOrPath}: not in the Hugging Face cache (${hubCacheFolder(id.name)} lacks ${options.files.join(', ')} for ` +
        `${id.revision}) and HF_HUB_OFFLINE=1 forbids downloading; run once without HF_HUB_OFFLINE, point HF_HUB_CACHE/HF_HOME at a ` +
        'cache that has it, or give a local folder',
      { subject: idOrPath },
    );
  }
  return downloadSnapshot(id, options.files, options.progress ?? silentProgress);
}

/** The files of an EnCodec model folder in Hugging Face's layout (what src/codec reads). */
export const ENCODEC_FILES = ['config.json', 'model.safetensors'];

/**
 * A wavelm LM checkpoint: `idOrPath` itself when it exists locally (a model.safetensors, checkpoint or run
 * directory), else the `model.safetensors` of the hub model it names.
 */
export async function resolveCheckpointPath(idOrPath: string, progress?: ProgressSink): Promise<string> {
  if (existsSync(idOrPath)) return idOrPath;
  return join(await resolveModelPath(idOrPath, { files: ['model.safetensors'], progress }), 'model.safetensors');
}
