"""The package as users meet it: a fast import, a lazy namespace, and a command line."""
import json, subprocess, sys
import pytest
import latentplay as lp

def _py(code): return subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout

def test_import_is_light():
    "`import latentplay` loads none of the heavy libraries (torch, matplotlib, librosa, scipy, IPython)."
    out = json.loads(_py("import sys, json, latentplay; print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
                         "('torch','matplotlib','librosa','scipy','IPython','numba','sklearn'))))"))
    assert out == []

def test_namespace_resolves_every_public_name():
    for name in lp.__all__: assert getattr(lp, name) is not None, name
    assert lp.__version__.count('.') == 2
    with pytest.raises(AttributeError, match='no attribute'): lp.not_a_name

def test_cli_help():
    r = subprocess.run([sys.executable, '-m', 'latentplay.cli', '--help'], capture_output=True, text=True)
    assert r.returncode == 0 and 'demo' in r.stdout

def test_cli_describe_a_real_note(tmp_path, gm_notes):
    "`latentplay describe` reads a user's file (never writing it) and reports its pitch and loudness."
    note = gm_notes.filter(instrument='Trumpet', pitch=67, velocity=85)[0]
    f = note.save(tmp_path / 'trumpet.flac')
    before = f.read_bytes()
    r = subprocess.run([sys.executable, '-m', 'latentplay.cli', 'describe', str(f)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert abs(d['f0'] - 392.0) / 392.0 < 0.02 and -60 < d['loudness'] < 0 and d['sr'] == 22050
    assert f.read_bytes() == before

def test_cli_reports_bad_files_without_traceback(tmp_path):
    bad = tmp_path / 'notes.wav'; bad.write_text('not audio')
    r = subprocess.run([sys.executable, '-m', 'latentplay.cli', 'describe', str(bad)], capture_output=True, text=True)
    assert r.returncode == 2 and 'not readable as audio' in r.stderr and 'Traceback' not in r.stderr
