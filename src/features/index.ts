/** Resampling (scipy.signal.resample_poly), STFT and its inverse, mel filterbanks, mel spectrograms and their inversion (Griffin-Lim), power_to_db and MFCC (librosa 0.11). */
export * from './resample.js';
export * from './fft.js';
export * from './spectral.js';
export * from './istft.js';
export * from './griffinlim.js';
export * from './mel-inverse.js';
export { RandomState } from './mt19937.js';
export * from './mel-file.js';
