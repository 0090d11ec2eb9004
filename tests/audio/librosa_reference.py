"""An independent reference for `bmru features`: librosa 0.10's documented MFCC / log-mel formulas
written again in numpy and scipy (no code shared with the C++ front end, no librosa needed).

usage: librosa_reference.py FEATURES.h5 [--resample] WAV...

Reads the settings from the attributes of /inputs, computes the features of each WAV and prints the
largest difference relative to the largest reference value, per clip and overall, as
`max_rel_diff=<x>`. Clips at another rate than the file's sample_rate are resampled with scipy's
polyphase filter when --resample is given (an approximation of soxr_hq: compare those loosely).
"""
import sys
from fractions import Fraction

import h5py
import numpy as np
import scipy.fft
import scipy.io.wavfile
import scipy.signal


def slaney_hz_to_mel(f):
    f = np.asarray(f, dtype=np.float64)
    lin = f / (200.0 / 3)
    log = 15.0 + np.log(np.maximum(f, 1e-300) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(f >= 1000.0, log, lin)


def slaney_mel_to_hz(m):
    m = np.asarray(m, dtype=np.float64)
    lin = m * (200.0 / 3)
    log = 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0))
    return np.where(m >= 15.0, log, lin)


def mel_filters(sr, n_fft, n_mels):
    freqs = np.arange(1 + n_fft // 2) * sr / n_fft
    edges = slaney_mel_to_hz(np.linspace(slaney_hz_to_mel(0.0), slaney_hz_to_mel(sr / 2.0), n_mels + 2))
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs[None, :] - lower) / (centre - lower)
    falling = (upper - freqs[None, :]) / (upper - centre)
    tri = np.clip(np.minimum(rising, falling), 0.0, None)
    return tri * (2.0 / (upper - lower))


def features(y, a):
    sr, n_fft, hop = float(a["sample_rate"]), int(a["n_fft"]), int(a["hop"])
    n = int(round(float(a["duration_s"]) * sr))
    y = np.concatenate([y[:n], np.zeros(max(0, n - len(y)))])
    padded = np.pad(y, n_fft // 2, mode="constant")
    count = 1 + (len(padded) - n_fft) // hop
    idx = np.arange(n_fft)[None, :] + hop * np.arange(count)[:, None]
    window = scipy.signal.get_window("hann", n_fft, fftbins=True)
    power = np.abs(np.fft.rfft(padded[idx] * window, axis=1)) ** 2  # [frames, bins]
    mel = power @ mel_filters(sr, n_fft, int(a["n_mels"])).T
    db = 10.0 * np.log10(np.maximum(1e-10, mel))
    db = np.maximum(db, db.max() - float(a["top_db"]))
    if a["feature_kind"] == "mfcc":
        f = scipy.fft.dct(db, type=2, norm="ortho", axis=1)[:, : int(a["feature_count"])]
    else:
        f = (db + 100.0) / 100.0
    if a["normalize"] == "utterance":
        f = (f - f.mean(axis=0)) / (f.std(axis=0) + 1e-8)
    return f


def read_wav(path, target_sr, resample):
    sr, x = scipy.io.wavfile.read(path)
    if x.dtype == np.int16:
        y = x.astype(np.float32) / 32768.0
    elif x.dtype == np.int32:
        y = x.astype(np.float32) / 2147483648.0
    elif x.dtype == np.uint8:
        y = (x.astype(np.float32) - 128.0) / 128.0
    else:
        y = x.astype(np.float32)
    if y.ndim == 2:
        y = y.mean(axis=1)
    if sr != target_sr:
        if not resample:
            sys.exit(f"{path} is at {sr} Hz, not {target_sr} Hz: give --resample")
        r = Fraction(int(target_sr), int(sr))
        y = scipy.signal.resample_poly(y.astype(np.float64), r.numerator, r.denominator)
    return y.astype(np.float64)


def main():
    args = sys.argv[1:]
    resample = "--resample" in args
    args = [a for a in args if a != "--resample"]
    out, wavs = args[0], args[1:]
    with h5py.File(out, "r") as f:
        ours = f["inputs"][:]
        a = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f["inputs"].attrs.items()}
    if ours.shape[0] != len(wavs):
        sys.exit(f"{out} holds {ours.shape[0]} clips, {len(wavs)} files given")
    worst = 0.0
    for i, w in enumerate(wavs):
        ref = features(read_wav(w, float(a["sample_rate"]), resample), a)
        if ref.shape != ours[i].shape:
            sys.exit(f"{w}: shape {ours[i].shape} against the reference's {ref.shape}")
        rel = np.max(np.abs(ours[i] - ref)) / max(np.max(np.abs(ref)), 1e-30)
        print(f"{w}: max_rel_diff={rel:.3e}")
        worst = max(worst, rel)
    print(f"max_rel_diff={worst:.6e}")


if __name__ == "__main__":
    main()
