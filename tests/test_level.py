"""One level policy, "what you hear is what you save": every player plays a sound as heard (peak at -1 dBFS,
`LISTENING_PEAK`), `Sound.save` and downloads write that same sound unless asked for `level='as is'`, the readout
says how far the sound was moved, and silence stays silent (never raised, never NaN)."""
import base64, io, math, re

import numpy as np
import pytest
import soundfile as sf

import latentplay.sound as S
from latentplay.sound import LISTENING_PEAK, SILENCE_DB, Sound, audio_bytes, load, wav_bytes


@pytest.fixture(scope='module')
def quiet_output(drums):
    "A real output of the shipped drum model: a latent point of its prior held for 40 steps as a clap (it comes out quiet, -32 dBFS)."
    z = np.tile(np.asarray(drums.prior(1, seed=0)[0], np.float32), (40, 1))
    return drums.decode(z, label='clap')


def _player_samples(s:Sound, monkeypatch):
    "The samples a Sound's player embeds, with the players switched to lossless WAV so that they compare exactly."
    monkeypatch.setattr(S, 'PLAYER_FORMAT', 'wav')
    b64 = re.search(r'<audio[^>]*src="data:audio/wav;base64,([^"]+)"', s._repr_html_()).group(1)
    return sf.read(io.BytesIO(base64.b64decode(b64)), dtype='float32')


def test_a_quiet_model_output_is_saved_as_heard(quiet_output, tmp_path, monkeypatch):
    out = quiet_output
    assert out.level.quiet and out.peak < 10 ** (-30 / 20), out.level      # the README's case: far too quiet as it is
    heard, sr = _player_samples(out, monkeypatch)
    back = load(out.save(tmp_path / 'found.wav'))                          # the default: what the player plays
    assert back.sr == sr == out.sr and len(back) == len(out)
    np.testing.assert_array_equal(back.audio, heard)                       # byte for byte the sound that was heard
    assert abs(back.peak - LISTENING_PEAK) < 1e-3 and abs(back.level.peak_db + 1) < 0.01
    np.testing.assert_allclose(back.audio, out.audio * (LISTENING_PEAK / out.peak), atol=1e-4)   # one gain: shape kept
    # the download link's bytes (wav_bytes' default) are the same sound
    dl, _ = sf.read(io.BytesIO(wav_bytes(out.audio, out.sr)), dtype='float32')
    np.testing.assert_array_equal(dl, heard)
    # asked for, the samples as they are (32-bit float: at -70 dBFS a 16-bit file keeps only a few bits of them)
    raw = load(out.save(tmp_path / 'raw.wav', level='as is', subtype='FLOAT'))
    np.testing.assert_array_equal(raw.audio, out.audio)
    # reproducible: the same sound saved twice gives the same file; a saved file saved again keeps its level
    assert out.save(tmp_path / 'again.wav').read_bytes() == (tmp_path / 'found.wav').read_bytes()
    np.testing.assert_allclose(load(back.save(tmp_path / 'twice.wav')).audio, back.audio, atol=1e-4)


def test_the_readout(quiet_output):
    lv = quiet_output.level
    p = 20 * math.log10(quiet_output.peak)
    assert abs(lv.peak_db - p) < 1e-6 and abs(lv.gain_db - (-1 - p)) < 1e-3 and lv.rms_db < lv.peak_db
    assert str(lv) == f"quiet: peak {p:+.1f} dBFS, raised {-1 - p:.1f} dB to -1 dBFS"
    assert str(lv) in quiet_output._repr_html_()                          # every Sound player shows it
    tone = Sound(0.5 * np.sin(np.arange(4000) / 3), 16000)
    assert str(tone.level) == 'peak -6.0 dBFS, raised 5.0 dB to -1 dBFS' and not tone.level.quiet
    assert str(tone.as_heard().level) == 'peak -1.0 dBFS, as it is'
    assert str(tone.gain(12).level) == 'peak +6.0 dBFS (over full scale), lowered 7.0 dB to -1 dBFS'


def test_silence_stays_silent(tmp_path):
    for i, s in enumerate([Sound(np.zeros(2205), 22050), Sound(np.full(2205, 1e-7), 22050), Sound(np.zeros(0), 22050)]):
        lv = s.level
        assert lv.silent and not lv.quiet and str(lv) == 'silent' and lv.gain_db == 0.0
        assert not any(math.isnan(x) for x in lv) and lv.peak_db <= SILENCE_DB
        np.testing.assert_array_equal(s.as_heard().audio, s.audio)       # never raised
        for fmt in S.AUDIO_FORMATS:
            a, _ = sf.read(io.BytesIO(audio_bytes(s.audio, s.sr, fmt)[0]), dtype='float32')
            assert np.isfinite(a).all() and np.abs(a).max(initial=0) < 1e-4
        if len(s):
            back = load(s.save(tmp_path / f'silence{i}.wav'))
            assert np.isfinite(back.audio).all() and back.peak < 1e-4
        assert '>silent<' in s._repr_html_()


def test_a_long_sound_plays_at_the_whole_sound_level(monkeypatch):
    "A player shows the first 30 s of a longer sound at the gain of the whole sound: the level a save would write."
    sr = 8000
    a = np.concatenate([0.01 * np.ones(31 * sr), 0.5 * np.ones(sr)]).astype(np.float32)
    s = Sound(a, sr)
    heard, _ = _player_samples(s, monkeypatch)
    assert len(heard) == 30 * sr and abs(np.abs(heard).max() - 0.01 * LISTENING_PEAK / 0.5) < 1e-3


def test_bad_levels_are_refused(tmp_path):
    s = Sound(0.5 * np.ones(100, np.float32), 8000)
    with pytest.raises(ValueError, match="'as heard'.*'as is'"): s.save(tmp_path / 'x.wav', level='loud')
    assert not (tmp_path / 'x.wav').exists()
    for spelt in ('as_is', 'as-is', 'AS IS'): assert abs(load(s.save(tmp_path / 'x.wav', level=spelt)).peak - 0.5) < 1e-3
    with pytest.raises(ValueError, match='clip'): s.gain(12).save(tmp_path / 'y.wav', level='as is')
    assert abs(load(s.gain(12).save(tmp_path / 'y.wav')).peak - LISTENING_PEAK) < 1e-3   # as heard never clips
