"Tests of latentplay.patterns: the step grid, its shorthand, rendering (timing, swing, loops, velocity, mute/solo, cache), files and bad input."
import json, math, os
import numpy as np
import pytest
import torch

from latentplay.patterns import (Pattern, Track, HitCache, render_pattern, save_pattern, load_pattern, plot_pattern,
                                 check_cell, parse_steps, format_steps, hit_seed)
from latentplay.sound import Sound

SR = 22050


class Counting:
    "A thin wrapper that delegates everything to a real model and counts the calls to `generate`."
    def __init__(self, model): self.model, self.calls = model, 0
    def __getattr__(self, k): return getattr(self.model, k)
    def generate(self, *a, **kw):
        self.calls += 1
        return self.model.generate(*a, **kw)


from conftest import BareModel as NoGenerate   # the protocol only: no generate, no stretch


def one_hit(step, n=16, swing=0.0, **cell):
    p = Pattern(tracks=['snare'], n_steps=n, tempo=120, swing=swing)
    return p.set('snare', step, **cell)


# ---- the grid ----------------------------------------------------------------------------------------------------------
def test_shorthand_round_trip():
    assert format_steps(parse_steps('x.o.|1-9_ X')) == 'x.o.1.9.x'
    assert parse_steps('x.', 6) == [{}, None, {}, None, {}, None]
    assert parse_steps('3')[0] == {'velocity': 0.3}
    t = Track('kick', 8, steps='x...o...')
    assert t.steps == 'x...o...' and t.sound == {'label': 'kick'}
    t.steps = 'x.'
    assert t.steps == 'x.x.x.x.'


def test_pattern_defaults_and_metre():
    p = Pattern()
    assert (len(p), p.n_steps, p.tempo, p.steps_per_beat, p.swing) == (8, 16, 120.0, 4, 0.0)
    assert p.names == ['kick', 'snare', 'hihat', 'clap', 'tom', 'cymbal', 'shaker', 'wood']
    q = Pattern(bars=2, tempo=90)
    assert (q.n_steps, q.bars, q.beats) == (32, 2.0, 8.0)
    assert math.isclose(q.seconds, 8 * 60 / 90)
    assert Pattern(tracks=10).names[-2:] == ['track9', 'track10']


def test_editing_verbs():
    p = Pattern()
    p.set('snare', [4, 12]).set('snare', 12, velocity=.5, seed=2).set(0, slice(0, None, 4))
    assert p['kick'].steps == 'x...x...x...x...' and p.cell('snare', 12) == {'velocity': .5, 'seed': 2}
    p.set('snare', 12, label={'snare': 1, 'clap': 1})
    assert p.cell('snare', 12)['label'] == {'snare': 1.0, 'clap': 1.0}
    p.set('snare', 12, z=[0.0] * 4)                                 # a latent point replaces the label
    assert 'label' not in p.cell('snare', 12) and p.cell('snare', 12)['z'] == [0.0] * 4
    p.set('snare', 12, z=None, velocity=None)
    assert p.cell('snare', 12) == {'seed': 2}
    p.toggle('hihat', 3).toggle('hihat', 3).toggle('hihat', 5)
    assert p['hihat'].steps == '.....x..........'
    p.clear('kick', range(8)); assert p['kick'].steps == '........x...x...'
    p.clear('kick'); assert p['kick'].steps == '.' * 16
    p.add_track('bass', steps='x.', label='tom', gain=-3)
    assert p['bass'].label == 'tom' and p['bass'].gain == -3 and p[-1].name == 'bass'
    p.remove_track('bass'); assert 'bass' not in p.names
    p.clear(); assert all(c is None for t in p.tracks for c in t.cells)


def test_copy_and_equality():
    p = Pattern.from_strings({'kick': 'x...', 'hihat': 'x.x.x.x.'}, tempo=95, swing=.2)
    assert p.n_steps == 8 and p['kick'].steps == 'x...x...'
    q = p.copy()
    assert q == p and q is not p and [t.name for t in q] == ['kick', 'hihat']
    q.set('kick', 1)
    assert q != p


# ---- rendering: timing -------------------------------------------------------------------------------------------------
def test_exact_length_and_seamless_loops(drums):
    p = Pattern.from_strings({'kick': 'x...x...x...x...', 'cymbal': '..............x.'}, tempo=137)
    p.set('cymbal', 14, stretch=3.0)                                 # rings well past the end of the loop
    L = p.loop_samples(SR)
    assert L == round(16 / 4 * 60 / 137 * SR)
    one, three = render_pattern(drums, p), render_pattern(drums, p, loops=3)
    assert isinstance(one, Sound) and one.sr == SR and len(one) == L and len(three) == 3 * L
    assert np.array_equal(three.audio[:L], one.audio) and np.array_equal(three.audio[2 * L:], one.audio)
    # the tail of a stretched cymbal near the end is wrapped onto the start: the loop is the steady state of its repetition
    cym = Pattern.from_strings({'cymbal': '..............x.'}, tempo=137).set('cymbal', 14, stretch=3.0)
    y = render_pattern(drums, cym).audio
    assert len(y) == L and np.abs(y[:cym.onsets(SR)[14]]).max() > 0


def test_onsets_land_on_their_samples(drums):
    h = render_pattern(drums, one_hit(0)).audio
    L = len(h)
    step = 60 / 120 / 4 * SR
    for s in (1, 5, 15):
        y = render_pattern(drums, one_hit(s)).audio
        assert np.allclose(y, np.roll(h, int(round(s * step))), atol=1e-6), s


def test_swing_delays_every_second_step(drums):
    step = 60 / 120 / 4 * SR
    h = render_pattern(drums, one_hit(0)).audio
    for sw in (0.25, 0.6):
        assert np.allclose(render_pattern(drums, one_hit(4, swing=sw)).audio, np.roll(h, int(round(4 * step))), atol=1e-6)
        assert np.allclose(render_pattern(drums, one_hit(3, swing=sw)).audio, np.roll(h, int(round((3 + sw) * step))), atol=1e-6)
    p = Pattern(n_steps=8, swing=.5)
    assert (p.onsets(1000) - Pattern(n_steps=8).onsets(1000)).tolist() == [0, 63, 0, 63, 0, 63, 0, 63]


# ---- rendering: levels -------------------------------------------------------------------------------------------------
def test_velocity_and_track_gain_scale_the_hit(drums):
    full = render_pattern(drums, one_hit(2)).audio
    assert np.abs(full).max() > 0
    assert np.allclose(render_pattern(drums, one_hit(2, velocity=.5)).audio, .5 * full, atol=1e-6)
    assert not render_pattern(drums, one_hit(2, velocity=0)).audio.any()
    p = one_hit(2); p['snare'].gain = -6.0
    assert np.allclose(render_pattern(drums, p).audio, 10 ** (-6 / 20) * full, atol=1e-6)
    soft = Pattern.from_strings({'snare': '..o.............'})
    assert np.allclose(render_pattern(drums, soft).audio, .5 * full, atol=1e-6)


def test_mute_and_solo(drums):
    p = Pattern.from_strings({'kick': 'x...x...', 'snare': '..x...x.', 'hihat': 'xxxxxxxx'})
    only = lambda *names: render_pattern(drums, Pattern.from_strings({n: p[n].steps for n in names})).audio
    p['hihat'].mute = True
    assert np.allclose(render_pattern(drums, p).audio, only('kick', 'snare'), atol=1e-6)
    p['snare'].solo = True
    assert np.allclose(render_pattern(drums, p).audio, only('snare'), atol=1e-6)
    p['hihat'].solo = True                                           # muted and soloed: mute wins
    assert np.allclose(render_pattern(drums, p).audio, only('snare'), atol=1e-6)
    p['snare'].mute = True
    assert not render_pattern(drums, p).audio.any()


def test_morph_is_a_label_mixture(drums):
    c = Counting(drums)
    p = one_hit(0, label='kick', morph={'to': 'snare', 'amount': .3})
    y = render_pattern(c, p).audio
    ref = drums.generate(label={'kick': .7, 'snare': .3}, seed=hit_seed(0, 0)).audio
    assert np.allclose(y[:len(ref)], ref[:len(y)], atol=1e-6)
    z = render_pattern(drums, one_hit(0, label='kick', morph={'to': 'snare', 'amount': 0.0})).audio
    assert np.allclose(z, render_pattern(drums, one_hit(0, label='kick')).audio)


def test_seeds_pick_variants(drums):
    a = render_pattern(drums, one_hit(0)).audio
    assert not np.allclose(a, render_pattern(drums, one_hit(0, seed=1)).audio)
    assert not np.allclose(a, render_pattern(drums, one_hit(0), seed=1).audio)
    assert np.array_equal(a, render_pattern(drums, one_hit(0)).audio)        # deterministic
    assert hit_seed(0, 0) != hit_seed(0, 1) != hit_seed(1, 0)


def test_stretch_changes_the_hit_length(drums):
    c = Counting(drums)
    short = render_pattern(c, one_hit(0, n=64)).audio
    long = render_pattern(c, one_hit(0, n=64, stretch=2.0)).audio
    nz = lambda y: np.flatnonzero(np.abs(y) > 1e-6 * np.abs(y).max())[-1]
    assert nz(long) > 1.5 * nz(short)
    assert np.isfinite(long).all()


def test_latent_cells_are_held_and_enveloped(drums):
    z = drums.prior(1, seed=3)[0]
    p = Pattern(tracks=['g'], n_steps=16).set('g', 4, z=z, length=2)
    y = render_pattern(drums, p).audio
    on = p.onsets(SR)
    n = int(round(2 * p.step_seconds * SR))
    assert not y[:on[4]].any() and not y[on[4] + n:].any()           # exactly `length` steps long
    assert np.abs(y[on[4]:on[4] + n]).max() > 0 and y[on[4]] == 0     # starts from silence (attack)
    q = Pattern(tracks=['g'], n_steps=16); q['g'].z = z.tolist(); q.set('g', 4, length=2)   # the track's default point
    assert np.allclose(render_pattern(drums, q).audio, y)


def test_models_without_generate_decode_their_prior(drums):
    bare = NoGenerate(drums)
    p = Pattern.from_strings({'kick': 'x...x...', 'snare': '..x.'}).set('snare', 2, stretch=2.0)
    y = render_pattern(bare, p)
    assert len(y) == p.loop_samples(SR) and np.isfinite(y.audio).all() and y.peak > 0


# ---- the cache ---------------------------------------------------------------------------------------------------------
def test_identical_cells_share_one_hit(drums):
    c = Counting(drums)
    render_pattern(c, Pattern.from_strings({'kick': 'x...x...x...x...', 'snare': '....x.......x...'}))
    assert c.calls == 2


def test_cache_rerender_after_one_edit(drums):
    c = Counting(drums)
    p = Pattern(bars=2)
    for i, t in enumerate(p.tracks): t.steps = ['x...', '....x...', 'x.o.', '.......x', '..x.....', 'x' + '.' * 31, '.x', '...x'][i]
    cache = {}
    first = render_pattern(c, p, cache=cache)
    assert c.calls == 8
    again = render_pattern(c, p, cache=cache)
    assert c.calls == 8 and np.array_equal(first.audio, again.audio)
    p.set('snare', 14, seed=5)
    edited = render_pattern(c, p, cache=cache)
    assert c.calls == 9
    assert np.array_equal(edited.audio, render_pattern(drums, p).audio)     # same as a fresh render
    p.set('hihat', 2, velocity=.2)                                          # a velocity edit needs no new hit
    render_pattern(c, p, cache=cache)
    assert c.calls == 9


def test_hit_cache_is_bounded():
    h = HitCache(maxsize=2)
    h['a'], h['b'] = 1, 2
    _ = h['a']
    h['c'] = 3
    assert list(h) == ['a', 'c']


# ---- files -------------------------------------------------------------------------------------------------------------
def full_pattern():
    p = Pattern.from_strings({'kick': 'x...x...x...x..o', 'snare': '....x.......x...', 'hihat': 'x.3.'}, tempo=97.5, swing=.3)
    p.set('snare', 12, morph={'to': 'clap', 'amount': .25}, seed=4).set('kick', 8, label={'kick': .6, 'tom': .4}, stretch=1.5)
    p.add_track('grains', z=[0.1] * 64, gain=-4.5, mute=True).set('grains', 3, z=np.linspace(-1, 1, 64), length=2.5)
    p['hihat'].solo = True
    return p


def test_json_round_trip(tmp_path):
    p = full_pattern()
    f = save_pattern(p, tmp_path / 'sub' / 'beat.json')
    q = load_pattern(f)
    assert q == p and q.to_dict() == p.to_dict()
    d = json.loads(f.read_text())
    assert d['format'] == 'latentplay-pattern' and d['version'] == 1
    save_pattern(q.set('kick', 1), f)                                       # the named file is replaced
    assert load_pattern(f).cell('kick', 1) == {}
    assert sorted(x.name for x in f.parent.iterdir()) == ['beat.json']      # no temporary files left behind


def test_failed_save_leaves_the_old_file(tmp_path):
    f = save_pattern(full_pattern(), tmp_path / 'beat.json')
    before = f.read_bytes()
    with pytest.raises(TypeError): save_pattern({'not': 'a pattern'}, f)
    p = full_pattern(); p.tracks[0].cells[0] = {'velocity': float('nan')}  # damaged behind the API's back
    with pytest.raises(ValueError): save_pattern(p, f)
    assert f.read_bytes() == before


def _bad(tmp_path, edit):
    d = full_pattern().to_dict(); edit(d)
    f = tmp_path / 'bad.json'; f.write_text(json.dumps(d))
    return f


@pytest.mark.parametrize('edit, words', [
    (lambda d: d['tracks'][1]['cells'][0].update(vel=1), "track 'snare', step 4: unknown field 'vel'"),
    (lambda d: d['tracks'][0]['cells'][0].update(velocity=1.5), "track 'kick', step 0: velocity must be in [0, 1]"),
    (lambda d: d['tracks'][0]['cells'][0].update(velocity=-0.1), "velocity must be in [0, 1]"),
    (lambda d: d['tracks'][0]['cells'][0].update(step=16), "track 'kick': step 16 is out of range; steps are 0..15"),
    (lambda d: d['tracks'][0]['cells'][0].update(step=-1), "step -1 is out of range"),
    (lambda d: d['tracks'][0]['cells'][1].update(step=0), "track 'kick': step 0 is given twice"),
    (lambda d: d['tracks'][0]['cells'][0].update(stretch=0), "stretch must be in (0"),
    (lambda d: d['tracks'][0]['cells'][0].update(seed=1.5), "seed must be a whole number"),
    (lambda d: d['tracks'][0]['cells'][0].update(morph={'to': 'snare', 'amount': 2}), "morph amount must be in [0, 1]"),
    (lambda d: d['tracks'][0]['cells'][0].update(label='kick', z=[0.0]), "not both"),
    (lambda d: d['tracks'][3]['cells'][0].update(z=[0.0, 'a']), "track 'grains', step 3: z must be a list of numbers"),
    (lambda d: d['tracks'][0].update(colour='red'), "track 'kick': unknown field 'colour'"),
    (lambda d: d['tracks'][1].update(name='kick'), "already a track 'kick'"),
    (lambda d: d['tracks'][0].update(gain='loud'), "gain (dB) must be a number"),
    (lambda d: d['tracks'][0].update(mute='yes'), "mute must be True or False"),
    (lambda d: d.update(version=2), "newer latentplay"),
    (lambda d: d.update(format='something-else'), "not a latentplay pattern"),
    (lambda d: d.update(swing=0.9), "swing must be in [0, 0.75]"),
    (lambda d: d.update(tempo=-5), "tempo"),
    (lambda d: d.update(steps=0), "steps must be a whole number"),
    (lambda d: d.update(groove=1), "pattern: unknown field 'groove'"),
])
def test_bad_files_are_refused_with_a_clear_message(tmp_path, edit, words):
    with pytest.raises(ValueError, match='bad.json') as e: load_pattern(_bad(tmp_path, edit))
    assert words in str(e.value), str(e.value)


def test_not_json_is_refused(tmp_path):
    (tmp_path / 'x.json').write_text('{"format": "latentplay-pattern", ')
    with pytest.raises(ValueError, match='not valid JSON'): load_pattern(tmp_path / 'x.json')
    (tmp_path / 'y.json').write_bytes(b'\xff\xfe\x00\x01RIFF')
    with pytest.raises(ValueError, match='not a text file|not valid JSON'): load_pattern(tmp_path / 'y.json')


# ---- bad input in scripts ----------------------------------------------------------------------------------------------
def test_bad_edits():
    p = Pattern()
    with pytest.raises(ValueError, match="no track 'bass'; the tracks are"): p.set('bass', 0)
    with pytest.raises(ValueError, match='track 9 is out of range'): p.set(9, 0)
    with pytest.raises(ValueError, match="track 'kick': step 16 is out of range"): p.set('kick', 16)
    with pytest.raises(ValueError, match="track 'kick', step 0: unknown field 'vel'"): p.set('kick', 0, vel=1)
    with pytest.raises(ValueError, match='velocity must be in'): p.set('kick', 0, velocity=float('nan'))
    with pytest.raises(ValueError, match='morph works on labels'): p.set('kick', 0, z=[0.], morph={'to': 'snare', 'amount': .5})
    with pytest.raises(ValueError, match="unknown step character 'y'"): p['kick'].steps = 'x.y.'
    with pytest.raises(ValueError, match='the string has 3 steps, the pattern 16'): p['kick'].steps = 'x..'
    with pytest.raises(ValueError, match='already a track'): p.add_track('kick')
    with pytest.raises(ValueError, match='swing'): p.swing = -0.1
    with pytest.raises(ValueError, match='tempo'): p.tempo = float('inf')
    with pytest.raises(ValueError, match='n_steps or bars'): Pattern(n_steps=16, bars=1)
    with pytest.raises(ValueError, match='label or a latent point'): Track('a', label='kick', z=[0.])
    assert p['kick'].steps == '.' * 16                                           # nothing was half-applied


def test_render_checks_labels_and_latents_against_the_model(drums):
    with pytest.raises(ValueError, match=r"track 'bass', step 2 plays label 'bass', which this model does not know; it knows \['clap'"):
        render_pattern(drums, Pattern.from_strings({'kick': 'x...', 'bass': '..x.'}))
    with pytest.raises(ValueError, match="step 1 plays label 'gong'"):
        render_pattern(drums, one_hit(1, label='snare', morph={'to': 'gong', 'amount': .5}))
    with pytest.raises(ValueError, match='has 3 numbers, this model'):
        render_pattern(drums, Pattern(tracks=['g']).set('g', 0, z=[0.0] * 3))
    lat = Pattern(tracks=['g']); lat['g'].z = [0.0] * 64; lat.set('g', 0, morph={'to': 'snare', 'amount': .5})
    with pytest.raises(ValueError, match="track 'g', step 0: morph works on labels"): render_pattern(drums, lat)
    with pytest.raises(ValueError, match='loops'): render_pattern(drums, one_hit(0), loops=0)
    with pytest.raises(TypeError, match='takes a Pattern'): render_pattern(drums, {'kick': 'x...'})


def test_never_nan_and_silence_is_exact(drums):
    empty = render_pattern(drums, Pattern(bars=1, tempo=61))
    assert len(empty) == Pattern(tempo=61).loop_samples(SR) and not empty.audio.any()
    p = Pattern.from_strings({'kick': 'x', 'snare': '.x', 'hihat': 'x.o.', 'cymbal': 'x' + '.' * 15}, tempo=300, swing=.75)
    p.set('cymbal', 0, stretch=8.0).set('kick', 0, stretch=.1).set('snare', 1, label={'wood': 1e-9, 'tom': 0.0})
    p.add_track('g', z=drums.prior(1, seed=0)[0] * 50).set('g', [0, 5], length=.01)
    y = render_pattern(drums, p, loops=2)
    assert np.isfinite(y.audio).all() and len(y) == 2 * p.loop_samples(SR)


def test_plot_pattern():
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig = plot_pattern(full_pattern())
    assert len(fig.axes) == 1 and [t.get_text() for t in fig.axes[0].get_yticklabels()][0] == 'kick'
    plt.close(fig)


def test_old_name_of_n_steps_still_works():
    with pytest.warns(DeprecationWarning, match=r"Pattern\(steps=\.\.\.\) is now n_steps="):
        assert Pattern(steps=8).n_steps == 8
