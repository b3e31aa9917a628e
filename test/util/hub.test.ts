// Hub models by id: downloaded from a hub served on 127.0.0.1 (../shared's tiny EnCodec model in the
// hub's URL layout) into Python huggingface_hub's cache layout, then found there: no second download,
// no request at all for a commit or with HF_HUB_OFFLINE=1, the cache used when the hub is down, a clear
// error when offline and not cached; a cache laid out by Python is used as is; local paths win.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ENCODEC_FILES, parseHubId, resolveCheckpointPath, resolveModelPath } from '../../src/util/hub.js';
import type { ProgressSink } from '../../src/util/progress.js';
import { sharedPath } from '../helpers/shared.js';
import { startTestHub } from '../helpers/hub-server.js';

const ENV_KEYS = ['HF_ENDPOINT', 'HF_HUB_CACHE', 'HF_HOME', 'HF_HUB_OFFLINE', 'HF_TOKEN', 'HUGGINGFACE_HUB_CACHE'] as const;

function withEnv(values: Partial<Record<(typeof ENV_KEYS)[number], string>>): () => void {
  const saved = ENV_KEYS.map((k) => [k, process.env[k]] as const);
  for (const k of ENV_KEYS) delete process.env[k];
  Object.assign(process.env, values);
  return () => {
    for (const [k, v] of saved)
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  };
}

function recordingSink(): ProgressSink & { totals: number[]; ticked: number } {
  const s = {
    totals: [] as number[],
    ticked: 0,
    start(total: number) {
      s.totals.push(total);
    },
    tick(n: number) {
      s.ticked += n;
    },
    stop() {},
  };
  return s;
}

test('parseHubId: ORG/NAME[@REVISION]', () => {
  assert.deepEqual(parseHubId('facebook/encodec_24khz'), { name: 'facebook/encodec_24khz', revision: 'main' });
  assert.deepEqual(parseHubId('facebook/encodec_48khz@v1.0'), { name: 'facebook/encodec_48khz', revision: 'v1.0' });
  assert.deepEqual(parseHubId('org/name@refs/pr/1'), { name: 'org/name', revision: 'refs/pr/1' });
  for (const bad of ['encodec', './x/y', '/abs/path', 'a/b/c', 'a/..', 'a/b@../../x', 'a/b@/etc', 'a/b@'])
    assert.equal(parseHubId(bad), undefined, bad);
});

test('a hub id downloads into the Python cache layout once, then comes from the cache (hub up, down, offline)', async (t) => {
  const model = sharedPath(t, 'fixtures', 'encodec', 'encodec_24khz_tiny');
  if (!model) return;
  const name = 'facebook/encodec_24khz';
  const hub = await startTestHub([{ name, dir: model, files: ENCODEC_FILES }]);
  const home = mkdtempSync(join(tmpdir(), 'wavelm-hf-'));
  const restore = withEnv({ HF_ENDPOINT: hub.endpoint, HF_HOME: home, HF_HUB_CACHE: '' }); // empty reads as unset
  try {
    const sink = recordingSink();
    const dir = await resolveModelPath(name, { files: ENCODEC_FILES, progress: sink });
    const storage = join(home, 'hub', 'models--facebook--encodec_24khz');
    const commit = hub.commit(name);
    assert.equal(dir, join(storage, 'snapshots', commit));
    assert.equal(readFileSync(join(storage, 'refs', 'main'), 'utf8'), commit);
    for (const f of ENCODEC_FILES) {
      assert.ok(lstatSync(join(dir, f)).isSymbolicLink(), `${f} links into blobs/ as huggingface_hub does`);
      assert.match(readlinkSync(join(dir, f)), /^\.\.\/\.\.\/blobs\/[0-9a-f]{64}$/);
      assert.deepEqual(readFileSync(join(dir, f)), readFileSync(join(model, f)), f);
    }
    const size = readFileSync(join(model, 'model.safetensors')).length;
    assert.ok(sink.totals.includes(size), `progress announced ${size} bytes (got ${sink.totals.join(', ')})`);
    assert.equal(sink.ticked, size + readFileSync(join(model, 'config.json')).length);
    const downloads = () => hub.requests.filter((r) => r.includes('/resolve/')).length;
    const fetched = downloads();

    // Again: only the revision is asked for, nothing is downloaded.
    const before = hub.requests.length;
    assert.equal(await resolveModelPath(name, { files: ENCODEC_FILES }), dir);
    assert.deepEqual(hub.requests.slice(before), [`GET /api/models/${name}/revision/main`]);
    assert.equal(downloads(), fetched);
    // A commit hash that is cached: no request at all.
    assert.equal(await resolveModelPath(`${name}@${commit}`, { files: ENCODEC_FILES }), dir);
    assert.equal(hub.requests.length, before + 1);
    // HF_HUB_OFFLINE=1: no request; the checkpoint variant names the file.
    process.env.HF_HUB_OFFLINE = '1';
    assert.equal(await resolveCheckpointPath(name), join(dir, 'model.safetensors'));
    assert.equal(hub.requests.length, before + 1);
    await assert.rejects(
      resolveModelPath('facebook/encodec_48khz', { files: ENCODEC_FILES }),
      (e: Error & { code?: string }) =>
        e.code === 'ENOENT' && /not in the Hugging Face cache/.test(e.message) && /HF_HUB_OFFLINE=1/.test(e.message),
    );
    delete process.env.HF_HUB_OFFLINE;
    // The hub gone: the cached snapshot of main is used; an uncached id says the hub cannot be reached.
    await hub.close();
    assert.equal(await resolveModelPath(name, { files: ENCODEC_FILES }), dir);
    await assert.rejects(
      resolveModelPath('facebook/encodec_48khz', { files: ENCODEC_FILES }),
      /cannot reach the hub at http:\/\/127\.0\.0\.1:\d+ .* not in the cache/,
    );
  } finally {
    restore();
    await hub.close();
    rmSync(home, { recursive: true, force: true });
  }
});

test('a cache written by Python huggingface_hub is used without downloading; unknown ids and files are clear errors', async (t) => {
  const model = sharedPath(t, 'fixtures', 'encodec', 'encodec_24khz_tiny');
  if (!model) return;
  const name = 'facebook/encodec_48khz';
  const hub = await startTestHub([{ name, dir: model, files: ENCODEC_FILES }]);
  const cache = mkdtempSync(join(tmpdir(), 'wavelm-hf-'));
  const restore = withEnv({ HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: cache });
  try {
    // huggingface_hub's layout (file_download.py): blobs/<etag>, snapshots/<commit>/<file> -> ../../blobs/<etag>, refs/main.
    const storage = join(cache, 'models--facebook--encodec_48khz');
    const commit = hub.commit(name);
    mkdirSync(join(storage, 'blobs'), { recursive: true });
    mkdirSync(join(storage, 'snapshots', commit), { recursive: true });
    mkdirSync(join(storage, 'refs'));
    writeFileSync(join(storage, 'refs', 'main'), commit);
    for (const [i, f] of ENCODEC_FILES.entries()) {
      writeFileSync(join(storage, 'blobs', `etag${i}`), readFileSync(join(model, f)));
      symlinkSync(`../../blobs/etag${i}`, join(storage, 'snapshots', commit, f));
    }
    assert.equal(await resolveModelPath(name, { files: ENCODEC_FILES }), join(storage, 'snapshots', commit));
    assert.equal(hub.requests.filter((r) => r.includes('/resolve/')).length, 0);

    await assert.rejects(
      resolveModelPath('nobody/nothing', { files: ENCODEC_FILES }),
      (e: Error & { code?: string }) => e.code === 'ENOENT' && /HTTP 404/.test(e.message),
    );
    await assert.rejects(
      resolveModelPath(name, { files: ['missing.bin'] }),
      (e: Error & { code?: string }) => e.code === 'ENOENT' && /missing\.bin/.test(e.message),
    );
    await assert.rejects(resolveModelPath('not an id', { files: ENCODEC_FILES }), /no such file or folder/);

    // A local folder that looks like a hub id wins, with no request.
    const before = hub.requests.length;
    const cwd = process.cwd();
    process.chdir(cache);
    try {
      mkdirSync('facebook/encodec_24khz', { recursive: true });
      assert.equal(await resolveModelPath('facebook/encodec_24khz', { files: ENCODEC_FILES }), 'facebook/encodec_24khz');
      assert.equal(resolve('facebook/encodec_24khz'), join(cache, 'facebook', 'encodec_24khz'));
    } finally {
      process.chdir(cwd);
    }
    assert.equal(hub.requests.length, before);
  } finally {
    restore();
    await hub.close();
    rmSync(cache, { recursive: true, force: true });
  }
});
