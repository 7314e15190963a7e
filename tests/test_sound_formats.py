"""Players embed compressed audio: each format round-trips real sounds, every Sound display uses it, downloads stay
WAV at the level the player plays (as heard, peak -1 dBFS), and scripts/compress_outputs.py rewrites stored WAV players and nothing else."""
import base64, io, json, os, re, subprocess, sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import latentplay.sound as S
from latentplay.sound import AUDIO_FORMATS, LISTENING_PEAK, Sound, audio_bytes, wav_bytes

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / 'scripts' / 'compress_outputs.py'


def _clip(corpus, n, seconds=2.0, seed=0):
    "A short clip of `n` real sounds one after the other, at the corpus' rate (22.05 kHz)."
    idx = np.random.default_rng(seed).choice(len(corpus), n, replace=False)
    s = Sound(np.concatenate([corpus[int(i)].audio for i in idx]), corpus[0].sr)
    return s.slice(0, seconds)


@pytest.fixture(scope='module')
def clips(gm_drums, gm_notes, gm_textures):
    return dict(drums=_clip(gm_drums, 20), notes=_clip(gm_notes, 3), textures=_clip(gm_textures, 2))


def _decode(data):
    a, sr = sf.read(io.BytesIO(data), dtype='float32')
    return a, sr


@pytest.mark.parametrize('fmt', list(AUDIO_FORMATS))
def test_round_trip_of_real_sounds(clips, fmt):
    "Length and rate come back exactly; the level is the player's (as heard: peak -1 dBFS, same RMS); the lossy format stays close."
    from latentplay.dsp import lsd, sc
    for name, s in clips.items():
        data, mime = audio_bytes(s.audio, s.sr, fmt)
        assert mime == AUDIO_FORMATS[fmt][2]
        a, sr = _decode(data)
        ref = s.as_heard().audio
        assert sr == s.sr == 22050 and len(a) == len(s), (name, fmt)
        assert abs(np.sqrt(np.mean(a ** 2) / np.mean(ref ** 2)) - 1) < 0.05, (name, fmt)
        if fmt == 'ogg':
            assert 0.9 * LISTENING_PEAK < np.abs(a).max() < 1.2 * LISTENING_PEAK, (name, np.abs(a).max())
            assert float(lsd(ref, a)) < 15 and float(sc(ref, a)) < 0.2, (name, float(lsd(ref, a)), float(sc(ref, a)))
        else:
            np.testing.assert_allclose(a, ref, atol=1e-4)                         # lossless 16 bit
        if fmt != 'wav': assert len(data) < 0.75 * len(wav_bytes(s.audio, s.sr)), (name, fmt, len(data))


def test_vorbis_is_much_lighter(clips):
    wav = sum(len(wav_bytes(s.audio, s.sr)) for s in clips.values())
    ogg = sum(len(audio_bytes(s.audio, s.sr, 'ogg')[0]) for s in clips.values())
    assert ogg < 0.3 * wav, (ogg, wav)


def test_downloads_as_is_keep_the_samples(clips):
    "Asked for the samples as they are (normalize=False), WAV and FLAC bytes hold them unchanged."
    quiet = clips['notes'].gain(-20)
    a, sr = _decode(wav_bytes(quiet.audio, quiet.sr, normalize=False))
    np.testing.assert_allclose(a, quiet.audio, atol=1e-4)
    a, _ = _decode(audio_bytes(quiet.audio, quiet.sr, 'flac', normalize=False)[0])
    assert abs(np.abs(a).max() - quiet.peak) < 1e-3


def test_silence_and_nothing():
    for fmt in AUDIO_FORMATS:
        a, _ = _decode(audio_bytes(np.zeros(2205), 22050, fmt)[0])
        assert len(a) == 2205 and np.isfinite(a).all() and np.abs(a).max() < 1e-4
        data, mime = audio_bytes(np.zeros(0), 22050, fmt)
        assert len(_decode(data)[0]) == 0 and mime in ('audio/wav', AUDIO_FORMATS[fmt][2])
    with pytest.raises(ValueError, match='ogg'): audio_bytes(np.zeros(10), 22050, 'aac')


def _players(html):
    return re.findall(r'<audio[^>]*src="data:([^;]+);base64,([^"]+)"', html)


def test_sound_html_embeds_the_compressed_format(clips, monkeypatch):
    s = clips['drums']
    (mime, b64), = _players(s._repr_html_())
    assert mime == AUDIO_FORMATS[S.PLAYER_FORMAT][2] != 'audio/wav'
    a, sr = _decode(base64.b64decode(b64))
    assert sr == s.sr and len(a) == len(s)
    assert len(s._repr_html_()) < 0.5 * len(base64.b64encode(wav_bytes(s.audio, s.sr)))
    monkeypatch.setattr(S, 'PLAYER_FORMAT', 'flac')                        # older Safari: one setting for every player
    (mime, b64), = _players(s._repr_html_())
    assert mime == 'audio/flac' and len(_decode(base64.b64decode(b64))[0]) == len(s)
    hi = s.resample(44100)                                                  # players embed 22.05 kHz at most
    assert _decode(base64.b64decode(_players(hi._repr_html_())[0][1]))[1] == 22050


# ------------------------------------------------------------------------------------------ compress_outputs.py
def _wav_html(s):
    b64 = base64.b64encode(wav_bytes(s.audio, s.sr)).decode()
    return (f'<div class="latentplay-sound"><audio controls preload="none" src="data:audio/wav;base64,{b64}" '
            f'style="width:240px;height:30px"></audio></div>'), b64


def _notebook(tmp_path, s):
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
    player, b64 = _wav_html(s)
    ipython = (f'<audio  controls="controls" >\n    <source src="data:audio/x-wav;base64,{b64}" type="audio/x-wav" />\n'
               f'    Your browser does not support the audio element.\n</audio>\n')
    not_wav = base64.b64encode(b'RIFF-but-not-really-a-wav-file').decode()
    png = base64.b64encode(b'\x89PNG not really').decode()
    nb = new_notebook(cells=[
        new_markdown_cell('# A page'),
        new_code_cell(f"html = 'data:audio/wav;base64,{b64[:64]}'", outputs=[
            new_output('stream', name='stdout', text='hello\n')]),
        new_code_cell('s', outputs=[new_output('execute_result', execution_count=None, data={
            'text/html': player, 'text/plain': 'Sound(...)'})]),
        new_code_cell('Audio(s)', outputs=[new_output('display_data', data={'text/html': ipython, 'text/plain': 'Audio'})]),
        new_code_cell('other', outputs=[new_output('display_data', data={
            'text/html': f'<audio src="data:audio/wav;base64,{not_wav}"></audio>', 'image/png': png, 'text/plain': 'x'})]),
    ])
    for c in nb.cells:
        if c.cell_type == 'code': c.execution_count = None
    p = tmp_path / 'page.ipynb'
    nbformat.write(nb, p)
    return p, b64, not_wav


def _run(*args):
    "Run the script in this process (its imports are paid once): (exit status, its JSON report, '')."
    import contextlib, importlib.util
    spec = importlib.util.spec_from_file_location('compress_outputs', SCRIPT)
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf): rc = mod.main([str(a) for a in args])
    return rc, json.loads(buf.getvalue()), ''


def test_compress_outputs_rewrites_players_only(tmp_path, clips):
    import nbformat
    s = clips['notes']
    p, b64, not_wav = _notebook(tmp_path, s)
    before = p.read_bytes()
    rc, out, err = _run(p, '--dry-run')                                     # measures, writes nothing
    assert rc == 0, err
    assert p.read_bytes() == before and out['written'] is False and out['changed'] == 1
    (r,) = out['notebooks'].values()
    assert r['before'] == len(before) and r['after'] < 0.5 * r['before']
    assert _run(p, '--check')[0] == 1                                       # --check says it would change
    rc, out, err = _run(p)
    assert rc == 0, err
    text = p.read_text()
    assert len(text) == out['total']['after'] < len(before)
    nbformat.validate(nbformat.reads(text, as_version=4))
    mime = AUDIO_FORMATS[out['format']][2]
    # the two real players are rewritten, with the IPython <source type> following
    payloads = re.findall(r'data:' + re.escape(mime) + r';base64,([A-Za-z0-9+/=]+)', text)
    assert len(payloads) == 2 and f'type=\\"{mime}\\"' in text
    for b in payloads:
        a, sr = _decode(base64.b64decode(b))
        assert sr == s.sr and len(a) == len(s) and abs(np.abs(a).max() - LISTENING_PEAK) < 0.1   # the level the page had
    # everything else is byte for byte what it was: sources, text, pictures, a WAV that is not one
    pat = re.compile(r'data:audio/[a-z-]+;base64,[A-Za-z0-9+/=]+|type=\\"audio/[a-z-]+\\"')
    assert pat.sub('X', text) == pat.sub('X', before.decode())
    assert f"data:audio/wav;base64,{b64[:64]}" in text and f'data:audio/wav;base64,{not_wav}' in text
    assert b64 not in text
    # a second run changes nothing
    rc, out, _ = _run(p)
    assert rc == 0 and out['changed'] == 0 and p.read_text() == text
    r = subprocess.run([sys.executable, str(SCRIPT), '--check', str(p)], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0 and json.loads(r.stdout)['changed'] == 0, r.stderr    # and from the command line


def test_save_never_replaces_a_device_or_a_pipe(tmp_path):
    "A destination that is a device (through a link) or a FIFO is refused, and stays what it was."
    import stat
    from latentplay.sound import Sound
    s = Sound(np.full(100, 0.1, np.float32), 22050)
    (tmp_path / 'null.wav').symlink_to('/dev/null')
    os.mkfifo(tmp_path / 'pipe.wav')
    for name, kind in (('null.wav', 'a character device'), ('pipe.wav', 'a FIFO')):
        with pytest.raises(ValueError, match=f"is {kind}, not a file"): s.save(tmp_path / name)
    assert stat.S_ISCHR(os.stat('/dev/null').st_mode) and stat.S_ISFIFO(os.stat(tmp_path / 'pipe.wav').st_mode)
    assert s.save(tmp_path / 'fine.wav').stat().st_size > 44
