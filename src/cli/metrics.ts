/** `wavelm metrics REF DEG`: SNR, segmental SNR, SI-SDR, LSD, STOI and ESTOI of a degraded file against its reference. */
import type { Command } from 'commander';
import { MismatchError } from '../util/errors.js';
import { action, emit, warn } from './common.js';

interface MetricsCliOptions {
  stoi: boolean;
}

export function registerMetrics(program: Command): void {
  program
    .command('metrics')
    .description(
      'objective quality of DEG against REF: SNR, segmental SNR, SI-SDR, log-spectral distance, STOI, ESTOI (no PESQ: see docs/codec.md)',
    )
    .argument('<ref>', 'reference (clean) audio file')
    .argument('<deg>', 'degraded (processed) audio file; resampled to the reference rate if it differs')
    .option('--no-stoi', 'skip STOI and ESTOI')
    .action(
      action(async (refPath: string, degPath: string, o: MetricsCliOptions, cmd: Command) => {
        const [{ loadAudio, toFloat32Channels }, { resample }, { compareAudio }] = await Promise.all([
          import('../audio/index.js'),
          import('../features/index.js'),
          import('../metrics/index.js'),
        ]);
        const [ra, da] = await Promise.all([loadAudio(refPath), loadAudio(degPath)]);
        let ref = toFloat32Channels(ra);
        let deg = toFloat32Channels(da);
        if (ref.length !== deg.length) {
          throw new MismatchError(
            `${degPath} has ${deg.length} channel(s), ${refPath} has ${ref.length}; compare files with the same channel layout`,
            { subject: degPath },
          );
        }
        if (da.sampleRate !== ra.sampleRate) {
          warn(cmd, `${degPath} is ${da.sampleRate} Hz; resampling it to the reference's ${ra.sampleRate} Hz`);
          deg = deg.map((c) => resample(c, da.sampleRate, ra.sampleRate));
        }
        const n = Math.min(ref[0]!.length, deg[0]!.length);
        if (ref[0]!.length !== deg[0]!.length) {
          warn(cmd, `lengths differ (${ref[0]!.length} vs ${deg[0]!.length} samples); comparing the first ${n}`);
          ref = ref.map((c) => c.subarray(0, n));
          deg = deg.map((c) => c.subarray(0, n));
        }
        const r = compareAudio(ref, deg, ra.sampleRate, { skipStoi: !o.stoi });
        for (const w of r.warnings) warn(cmd, w);
        const f = (v: number, d = 2): string => (Number.isFinite(v) ? v.toFixed(d) : String(v));
        const json = { reference: refPath, degraded: degPath, ...r, stoi: o.stoi ? r.stoi : null, estoi: o.stoi ? r.estoi : null };
        emit(cmd, json, () =>
          [
            `SNR            ${f(r.snrDb)} dB`,
            `segmental SNR  ${f(r.segmentalSnrDb)} dB`,
            `SI-SDR         ${f(r.siSdrDb)} dB`,
            `LSD            ${f(r.lsdDb)} dB`,
            ...(o.stoi ? [`STOI           ${f(r.stoi, 4)}`, `ESTOI          ${f(r.estoi, 4)}`] : []),
          ].join('\n'),
        );
      }),
    );
}
