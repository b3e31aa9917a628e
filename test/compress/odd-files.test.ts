/** Every odd WAV in ../shared/data/odd round-trips byte for byte: as PCM when the LM path codes it, else as raw bytes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { compressAudio, decompressAudio, readArchiveInfo, type CompressionModel } from '../../src/compress/archive.js';
import { sharedPath } from '../helpers/shared.js';

const model: CompressionModel = {
  spec: { module: new URL('./order1-predictor.ts', import.meta.url).href, exportName: 'createOrder1', args: {} },
  vocabSize: 256,
  weightsSha256: new Uint8Array(createHash('sha256').update('w').digest()),
  configSha256: new Uint8Array(createHash('sha256').update('c').digest()),
};

function walk(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((n) => {
      const p = join(dir, n);
      return statSync(p).isDirectory() ? walk(p) : /\.(wav|aiff?)$/i.test(n) ? [p] : [];
    });
}

test('odd WAV files (RIFX, RF64, extensible, LIST before data, misaligned chunks, truncated) round-trip exactly', async (t) => {
  const dir = sharedPath(t, 'data', 'odd');
  if (!dir) return;
  const kinds: Record<string, number> = { wav: 0, raw: 0 };
  for (const f of walk(dir)) {
    // Only the first 64 KiB: the point is the layouts, not the length.
    const input = new Uint8Array(readFileSync(f)).subarray(0, 1 << 16);
    const { archive } = await compressAudio(input, model, { chunkLength: 512, allowRaw: true, name: f });
    kinds[readArchiveInfo(archive).settings.input]!++;
    assert.deepEqual(await decompressAudio(archive, model), input, f);
  }
  assert.ok(kinds.wav! >= 10 && kinds.raw! >= 5, JSON.stringify(kinds));
});
