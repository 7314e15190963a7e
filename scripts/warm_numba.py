"""Compile, once and in one process, the numba functions of librosa that the tests and notebooks compare against.

librosa caches its numba code on disk (NUMBA_CACHE_DIR). When several test workers compile the same function at the
same moment they can write a corrupt cache entry that crashes every later process loading it, so `make test` runs
this first, before any parallel work, and the workers only ever read the cache."""
import numpy as np
import librosa

sr = 22050
t = np.arange(sr) / sr
y = (0.5 * np.sin(2 * np.pi * 220 * t) + 0.01 * np.random.default_rng(0).standard_normal(sr)).astype(np.float32)
for y in (y, y.astype(np.float64)):                       # both dtypes: numba compiles one version per signature
    librosa.feature.spectral_centroid(y=y, sr=sr); librosa.feature.spectral_bandwidth(y=y, sr=sr)
    librosa.feature.spectral_rolloff(y=y, sr=sr); librosa.feature.spectral_flatness(y=y)
    librosa.feature.rms(y=y); librosa.feature.zero_crossing_rate(y)
    librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=sr))
    librosa.yin(y, fmin=40, fmax=2000, sr=sr); librosa.yin(np.stack([y, y]), fmin=30, fmax=2500, sr=sr, center=False)
    librosa.yin(y, fmin=40, fmax=2000, sr=sr, frame_length=2048, hop_length=512)
    librosa.cqt(y, sr=sr); librosa.resample(y, orig_sr=sr, target_sr=16000)
librosa.filters.mel(sr=sr, n_fft=2048); librosa.midi_to_hz(60)
