"""Re-derivation of librosa 0.11.0's griffinlim / istft / stft (librosa/core/spectrum.py) and of wavelm's NNLS
(src/features/mel-inverse.ts) in numpy, for test/features/mel-inverse.test.ts.

librosa 0.11.0 computes with numpy 1.x: stft and irfft run in float64 and are stored as complex64 / float32, the
phases are complex64, istft overlap-adds into a float32 buffer and divides by librosa.filters.window_sumsquare
(float32). The same casts are made here (numpy 2 would transform complex64 in single precision, so inputs are
cast to float64 first). Also librosa.util.nnls (L-BFGS-B from the clipped pseudo-inverse) for comparison.

usage: python3 mel_inverse_reference.py DIR   (reads DIR/*.npy and DIR/params.json, writes DIR/out_*.npy)
"""
import json
import sys

import numpy as np

TINY32 = np.finfo(np.float32).tiny


def hann(n):
    # scipy.signal.get_window('hann', n, fftbins=True): periodic
    return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)


def stft(y, n_fft, hop, win):
    yp = np.pad(y, n_fft // 2)  # center=True, pad_mode='constant'
    T = 1 + (len(yp) - n_fft) // hop
    idx = np.arange(n_fft)[:, None] + hop * np.arange(T)[None, :]
    frames = win[:, None] * yp[idx].astype(np.float64)
    return np.fft.rfft(frames, axis=0).astype(np.complex64)


def istft(D, n_fft, hop, win):
    T = D.shape[1]
    ytmp = win[:, None] * np.fft.irfft(D.astype(np.complex128), n=n_fft, axis=0)
    full = n_fft + hop * (T - 1)
    y = np.zeros(full, np.float32)
    wss = np.zeros(full, np.float32)
    for t in range(T):
        y[t * hop:t * hop + n_fft] += ytmp[:, t]
        wss[t * hop:t * hop + n_fft] += win ** 2
    s = n_fft // 2
    out = y[s:full - s].copy()
    w = wss[s:full - s]
    nz = w > TINY32
    out[nz] /= w[nz]
    return out


def griffinlim(S, n_fft, hop, n_iter=32, momentum=0.99, init="random", seed=0):
    win = hann(n_fft)
    angles = np.empty(S.shape, dtype=np.complex64)
    if init == "random":
        phi = 2 * np.pi * np.random.RandomState(seed).random(size=S.shape)
        angles[:] = np.cos(phi) + 1j * np.sin(phi)  # librosa.util.phasor
    else:
        angles[:] = 1.0
    angles *= S
    tprev = None
    for _ in range(n_iter):
        inverse = istft(angles, n_fft, hop, win)
        rebuilt = stft(inverse, n_fft, hop, win)
        angles[:] = rebuilt
        if tprev is not None:
            angles -= (momentum / (1 + momentum)) * tprev
        angles /= np.abs(angles) + TINY32
        angles *= S
        tprev = rebuilt
    return istft(angles, n_fft, hop, win)


def wavelm_nnls(A, M, iters):
    """wavelm's FISTA from max(0, pinv(A) M), step 1 / lambda_max(A A^T), float64."""
    A = A.astype(np.float64)
    M = M.astype(np.float64)
    L = np.linalg.eigvalsh(A @ A.T).max()
    x = np.clip(np.linalg.pinv(A) @ M, 0, None)
    z = x.copy()
    t = 1.0
    for _ in range(iters):
        g = A.T @ (A @ z - M)
        xn = np.clip(z - g / L, 0, None)
        tn = (1 + np.sqrt(1 + 4 * t * t)) / 2
        z = xn + ((t - 1) / tn) * (xn - x)
        x, t = xn, tn
    return x.astype(np.float32)


def librosa_nnls(A, B):
    """librosa.util.nnls for one block (librosa/util/utils.py, _nnls_lbfgs_block and _nnls_obj)."""
    import scipy.optimize
    x_init = np.einsum("fm,mt->ft", np.linalg.pinv(A), B, optimize=True)
    np.clip(x_init, 0, None, out=x_init)
    shape = x_init.shape

    def obj(x):
        x = x.reshape(shape)
        diff = np.einsum("mf,ft->mt", A, x, optimize=True) - B
        value = (1 / B.size) * 0.5 * np.sum(diff ** 2)
        grad = (1 / B.size) * np.einsum("mf,mt->ft", A, diff, optimize=True)
        return value, grad.flatten()

    x, _, _ = scipy.optimize.fmin_l_bfgs_b(obj, x_init, bounds=[(0, None)] * x_init.size, m=A.shape[1])
    return x.reshape(shape).astype(A.dtype)


def main(d):
    p = json.load(open(f"{d}/params.json"))
    for case in p["griffinlim"]:
        S = np.load(f"{d}/{case['input']}.npy")
        y = griffinlim(S, case["n_fft"], case["hop"], case["n_iter"], case["momentum"], case["init"], case["seed"])
        np.save(f"{d}/out_{case['name']}.npy", y)
    for case in p["nnls"]:
        A = np.load(f"{d}/{case['filterbank']}.npy")
        M = np.load(f"{d}/{case['input']}.npy")
        np.save(f"{d}/out_{case['name']}.npy", wavelm_nnls(A, M, case["iters"]))
        if case.get("librosa"):
            np.save(f"{d}/out_{case['name']}_librosa.npy", librosa_nnls(A, M))


if __name__ == "__main__":
    main(sys.argv[1])
