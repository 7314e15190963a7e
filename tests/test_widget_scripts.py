"""The widgets from a plain Python script, as a new user tries them: real Python processes that make widgets and end.

A script must end cleanly even while a render is running in the background (exit status 0, nothing on stderr: no
`terminate called without an active exception`), and reading a widget's state must give the state that was asked for
(in a script the widgets render in the caller's thread; with `threaded=True` reading the state waits for the render)."""
import json
import subprocess
import sys
import textwrap

import pytest


def run_script(code, tmp_path, timeout=300):
    "Run `code` in a fresh Python process (in an empty folder); returns the CompletedProcess."
    return subprocess.run([sys.executable, '-c', textwrap.dedent(code)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=timeout)


def test_the_one_liner_from_a_script_ends_cleanly(tmp_path):
    r = run_script("import latentplay as lp; w = lp.sliders(lp.pretrained('gm-drums'))", tmp_path)
    assert (r.returncode, r.stderr) == (0, ''), r.stderr[-2000:]


@pytest.mark.parametrize('widget', ['sliders', 'descriptor_target', 'sequencer'])
def test_ending_python_while_a_render_is_in_flight(tmp_path, widget):
    "A threaded widget with a render running and another one waiting when the script ends: a clean exit."
    make = {'sliders': "lp.sliders(m, threaded=True, autoplay=False)",
            'descriptor_target': "lp.descriptor_target(m, seconds=2.0, threaded=True, autoplay=False)",
            'sequencer': "lp.sequencer(m, threaded=True, autoplay=False)"}[widget]
    r = run_script(f"""
        import latentplay as lp
        m = lp.pretrained('gm-drums')
        w = {make}
        w.wait(120)
        w.set(**{{'sliders': dict(coords=[1.0]), 'descriptor_target': dict(seconds=3.0),
                 'sequencer': dict(tempo=100)}}['{widget}'])
        {'w.synthesize()' if widget == 'descriptor_target' else 'pass'}
        busy = not w.wait(0)                                  # the render just asked for is running
        {"w.set(coords=[2.0])" if widget == 'sliders' else "w.render()" if widget == 'sequencer' else "w.synthesize()"}
        print(busy)
        """, tmp_path)
    assert (r.returncode, r.stderr) == (0, ''), r.stderr[-2000:]
    assert r.stdout.strip() == 'True', 'no render was in flight when the script ended'


def test_exit_drops_the_waiting_request_and_waits_for_the_one_in_flight(tmp_path):
    "At exit the render in flight finishes (its callback runs) and the waiting one is never started."
    r = run_script("""
        import atexit, time, sys
        from latentplay.widgets import Latest
        def fn(r): time.sleep(0.5); return r
        lt = Latest(fn, lambda r, o: sys.stdout.write(f'done {o}\\n'), lambda r, e: None)
        lt.submit('in flight'); lt.submit('waiting')
        """, tmp_path)
    assert (r.returncode, r.stderr) == (0, ''), r.stderr
    assert r.stdout.splitlines() == ['done in flight']


def test_a_script_reads_the_state_it_asked_for(tmp_path):
    r = run_script("""
        import json, numpy as np, latentplay as lp
        from latentplay.maps import sound_at
        m = lp.pretrained('gm-drums')
        out = {}
        w = lp.sliders(m, autoplay=False)                       # no kernel: renders at once
        out['threaded'] = w._renderer.threaded
        out['sound at once'] = w.sound is not None and w.renders == 1
        w.set(coords=[2])
        out['new sound'] = bool(np.allclose(w.sound.audio, sound_at(m, [2.0], 1.0)[1].audio, atol=1e-5))
        out['path'] = w.path is not None and len(w.path) * m.hop_length == len(w.sound)
        t = lp.sliders(m, threaded=True, autoplay=False)        # in the background, as in JupyterLab
        t.set(coords=[2])
        out['threaded new sound'] = bool(np.allclose(t.sound.audio, w.sound.audio, atol=1e-5))
        t.set(coords=[-1.5, 0.5]); out['threaded rendered'] = t.rendered['coords'][:2]
        q = lp.sequencer(m, threaded=True, autoplay=False)
        q.click('kick', 0); q.set(tempo=90)
        out['pattern'] = [q.rendered_pattern.tempo, q.rendered_pattern.cell('kick', 0) is not None]
        d = lp.descriptor_target(m, seconds=1.0, n_iter=5, threaded=True, autoplay=False).set_target('centroid', [800, 3000])
        out['result'] = d.result is not None and abs(d.sound.duration - 1.0) < 0.05
        print(json.dumps(out))
        """, tmp_path)
    assert (r.returncode, r.stderr) == (0, ''), r.stderr[-2000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out == {'threaded': False, 'sound at once': True, 'new sound': True, 'path': True, 'threaded new sound': True,
                   'threaded rendered': [-1.5, 0.5], 'pattern': [90, True], 'result': True}, out
