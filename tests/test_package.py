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
