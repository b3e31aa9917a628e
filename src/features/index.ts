/**
 * Resampling (scipy.signal.resample_poly, and of whole files to WAV), STFT and its inverse, mel filterbanks, mel
 * spectrograms and their inversion (Griffin-Lim), power_to_db and MFCC (librosa 0.11), and spectrogram images.
 */
export * from './resample.js';
export * from './fft.js';
export * from './defaults.js';
export * from './stft.js';
export * from './mel.js';
export * from './power-to-db.js';
export * from './mfcc.js';
export * from './istft.js';
export * from './griffinlim.js';
export * from './mel-inverse.js';
export { RandomState } from './mt19937.js';
export * from './mel-file.js';
export * from './mono.js';
export * from './extract.js';
export * from './spectrogram-image.js';
export * from './resample-file.js';
