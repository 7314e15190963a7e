"""Hostile sizes given to the tools above the models (maps, targets, patterns, widgets): each is refused before anything
is allocated, with a message that names the limit, in a fresh Python under a time limit and a memory cap."""
from hostile import run_py, refused, REFUSE

SETUP = REFUSE + '''
import numpy as np, latentplay as lp
from latentplay.models import ProtocolOnly
m = lp.pretrained('gm-drums')
'''


def test_paths_and_sounds_of_any_length_are_bounded():
    r = run_py(SETUP + '''
refuse(lambda: lp.sound_at(m, [0.0], seconds=1e9))
refuse(lambda: lp.latent_steps(m, float('inf')))
refuse(lambda: lp.shape_path(m, m.prior(1)[0], seconds=10**7, shape='loop'))
''')
    for line in r.stdout.splitlines(): assert line.startswith('REFUSED ValueError'), r.stdout + r.stderr
    assert r.stdout.count('at most 3600') == 2 and 'finite' in r.stdout


def test_descriptor_targets_of_any_length_are_bounded():
    r = run_py(SETUP + '''
refuse(lambda: lp.follow_descriptors(m, {'centroid': 500}, seconds=1e8))
refuse(lambda: lp.greedy_descriptor_path(ProtocolOnly(m), {'rms': np.full(10**7, .1)}))
''')
    assert r.stdout.count('REFUSED ValueError') == 2, r.stdout + r.stderr
    assert 'from 0 to 3600 s' in r.stdout and 'more than the 3600 s' in r.stdout


def test_patterns_that_would_last_for_days_are_refused():
    r = run_py(SETUP + '''
slow = lp.Pattern.from_strings({'kick': 'x...'}, tempo=1e-3)
refuse(lambda: lp.render_pattern(m, slow))
many = lp.Pattern.from_strings({'kick': 'x...'}, tempo=120)
refuse(lambda: lp.render_pattern(m, many, loops=10**6))
refuse(lambda: lp.render_pattern(m, many, loops=9000))            # within the loop count, beyond the length
long_cell = lp.Pattern.from_strings({'kick': 'x...'}, tempo=2).set('kick', 0, length=1000)
refuse(lambda: lp.render_pattern(m, long_cell))
refuse(lambda: lp.Pattern(n_steps=10**9))
''')
    assert r.stdout.count('REFUSED ValueError') == 5, r.stdout + r.stderr
    assert r.stdout.count('one render makes') == 3 and 'loops must be' in r.stdout and 'n_steps must be' in r.stdout


def test_widgets_keep_their_controls_in_range():
    r = run_py(SETUP + '''
w = lp.sliders(m, n_axes=10**9, seconds=1.0)
print('axes', len(w.axis_sliders))
w.set(seconds=1e9)
print('seconds', w.seconds, round(w.sound.duration, 2))
refuse(lambda: lp.sequencer(m, n_steps=10**6))
refuse(lambda: lp.sliders({'sr': 22050}))
''')
    assert 'axes 64' in r.stdout and 'seconds 10.0 10.0' in r.stdout, r.stdout + r.stderr
    refused(r, 'n_steps must be')
    assert 'needs a latentplay model' in r.stdout
