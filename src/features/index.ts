/** Resampling (scipy.signal.resample_poly), STFT, mel filterbanks, mel spectrograms, power_to_db and MFCC (librosa 0.11). */
export * from './resample.js';
export * from './fft.js';
export * from './spectral.js';
