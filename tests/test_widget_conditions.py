"""The sliders widget offers a model's conditions (kernel side): pitch as a slider named by notes with a keyboard,
instrument and style as menus with mixtures, each asked of the protocol (`decode_conditions`), never probed.

Real shipped models: the note model (`gm-techniques-notes`: pitch, instrument, style), the timbre space
(`gm-notes-timbre`: pitch only, its instrument is the point) and the granular drums (no condition: unchanged).
The real-browser twin of these tests is test_browser_conditions.py."""
import numpy as np
import pytest
import torch

import latentplay as lp
from latentplay.maps import sound_at
from latentplay.models import ProtocolOnly
from latentplay.widgets import sliders


@pytest.fixture(scope='module')
def notes():
    torch.set_num_threads(1)
    return lp.pretrained('gm-techniques-notes')


@pytest.fixture(scope='module')
def space(): return lp.pretrained('gm-notes-timbre')


def make(model, **kw):
    "Sliders rendered in the caller's thread, without measuring axis names (fast)."
    return sliders(model, n_axes=2, names=False, threaded=False, autoplay=False, **kw)


def same(a, b) -> bool: return len(a.audio) == len(b.audio) and bool(np.array_equal(a.audio, b.audio))


def test_note_sliders_offer_what_decode_takes(notes):
    w = make(notes, pitch=55, instrument={'Violin': 0.7, 'Trumpet': 0.3}, style='arco')
    dc = notes.decode_conditions
    assert list(w.pickers) == [n for n in dc if n != 'label'] == ['pitch', 'instrument', 'style']
    p = w.pickers['pitch']
    assert (p.slider.min, p.slider.max) == (min(dc['pitch']), max(dc['pitch'])), 'the pitch slider spans the model range'
    assert 'G3' in p.readout.value                                        # the note is named
    assert [v for _, v in w.pickers['instrument'].dropdown.options][1:-1] == dc['instrument']
    assert [v for _, v in w.pickers['style'].dropdown.options][1:-1] == dc['style']
    assert w.conditions == {'pitch': 55, 'instrument': {'Violin': 0.7, 'Trumpet': 0.3}, 'style': 'arco'}
    assert same(w.sound, notes.decode(w.z, pitch=55, instrument={'Violin': 0.7, 'Trumpet': 0.3}, style='arco'))
    assert w.picker.layout.display == 'none' and w.seconds_slider.layout.display == 'none'   # no class; one note per point
    if p.keyboard is not None: assert (p.keyboard.low, p.keyboard.high, p.keyboard.value) == (min(dc['pitch']), max(dc['pitch']), 55)


def test_each_hand_move_renders_what_decode_makes(notes):
    w = make(notes)
    assert w.conditions == {'pitch': 60, 'instrument': None, 'style': None}      # the model's own defaults
    assert same(w.sound, notes.decode(w.z))
    moves = [(lambda: setattr(w.pickers['pitch'].slider, 'value', 50), dict(pitch=50)),          # a drag of the pitch
             (lambda: setattr(w.pickers['instrument'].dropdown, 'value', 'Violin'), dict(pitch=50, instrument='Violin'))]
    if w.pickers['pitch'].keyboard is not None:                                                  # a click on a key
        moves.append((lambda: setattr(w.pickers['pitch'].keyboard, 'value', 64.0), dict(pitch=64, instrument='Violin')))
    for move, want in moves:
        n, before = w.renders, w.sound
        move()
        assert w.renders == n + 1, 'one move, one render'
        assert {k: w.conditions[k] for k in want} == want
        assert same(w.sound, notes.decode(w.z, **w.conditions)) and not same(w.sound, before)
    w.pickers['instrument'].dropdown.value = '__mix__'                 # 'mixture...': a weight slider per instrument
    assert w.pickers['instrument'].mix_box.layout.display == ''
    w.pickers['instrument'].weights['Trumpet'].value = 0.4
    w.pickers['instrument'].weights['Violin'].value = 0.8
    assert w.conditions['instrument'] == {'Trumpet': 0.4, 'Violin': 0.8}
    assert same(w.sound, notes.decode(w.z, **w.conditions))


def test_weights_above_one_exaggerate_and_widen_the_slider(notes):
    w = make(notes, instrument='Guitar')
    w.set(style={'pizzicato': 1.0}); one = w.sound
    w.set(style={'pizzicato': 3.0})
    s = w.pickers['style'].weights['pizzicato']
    assert s.max == 3.0 and s.value == 3.0, 'a weight above the top widens the slider instead of being cut'
    assert w.conditions['style'] == {'pizzicato': 3.0}
    assert same(w.sound, notes.decode(w.z, pitch=60, instrument='Guitar', style={'pizzicato': 3.0}))
    assert not same(w.sound, one), 'the note model hears a total above 1 (it exaggerates)'
    assert np.isfinite(w.sound.audio).all()


def test_bad_conditions_change_nothing(notes):
    w = make(notes, pitch=62, instrument='Trumpet')
    state, n = w.conditions, w.renders
    for bad, msg in [(dict(pitch=200), 'outside'), (dict(pitch=60.5), 'whole'), (dict(pitch=float('nan')), 'number'),
                     (dict(pitch=True), 'number'), (dict(instrument='Tuba'), 'Tuba'), (dict(instrument={'Violin': -1}), '>= 0'),
                     (dict(style={'arco': float('nan')}), '>= 0'), (dict(style={'arco': 0}), 'sum to 0'),
                     (dict(colour='red'), "no condition 'colour'"), (dict(pitch=64, instrument='Tuba'), 'Tuba'),
                     (dict(shape='loop'), 'one whole note'), (dict(label='snare'), 'without labels')]:
        with pytest.raises(ValueError, match=msg): w.set(**bad)
        assert w.conditions == state and w.renders == n, f'{bad} changed the setting'
    with pytest.raises(ValueError, match='Tuba'): make(notes, instrument='Tuba')
    with pytest.raises(ValueError, match='one whole note'): make(notes, shape='line')


def test_only_the_protocol_is_asked(notes):
    "A note model seen through the protocol alone gets the same controls and the same sound."
    bare = ProtocolOnly(notes)
    w, v = make(bare, pitch=67, style='pizzicato'), make(notes, pitch=67, style='pizzicato')
    assert list(w.pickers) == list(v.pickers) and w.conditions == v.conditions
    assert same(w.sound, v.sound)


def test_timbre_space_offers_its_pitch_only(space):
    w = make(space, pitch=48)
    assert list(w.pickers) == ['pitch'] == [n for n in space.decode_conditions]   # its instrument is the point, not a condition
    lo, hi = space.decode_conditions['pitch']
    s = w.pickers['pitch'].slider
    assert (s.min, s.max) == (lo, hi) and 'C3' in w.pickers['pitch'].readout.value
    w.set(coords=[1.0], pitch=48.5)                                     # a range: fractions between keys
    assert w.conditions == {'pitch': 48.5}
    assert same(w.sound, space.decode(w.z, pitch=48.5))
    with pytest.raises(ValueError, match='outside'): w.set(pitch=hi + 1)
    with pytest.raises(ValueError, match='no condition'): w.set(instrument='Violin')


def test_granular_sliders_are_unchanged(drums):
    w = make(drums, seconds=0.5)
    assert w.pickers == {} and w.conditions == {}
    w.set(coords=[1.0, -0.5], shape='loop', extent=0.5)
    path, ref = sound_at(drums, [1.0, -0.5], 0.5, 'loop', 0.5, None, axes=w.axes)
    assert same(w.sound, ref) and torch.equal(w.path, path)
    snap = w.snapshot()
    assert len(snap.fig.axes) == 1 and snap.fig.axes[0].get_title() == 'class: even mix; loop, 0.5 s'
    with pytest.raises(ValueError, match='takes none'): w.set(pitch=60)


def test_scripts_in_the_background_get_what_they_asked(notes):
    w = sliders(notes, n_axes=2, names=False, threaded=True, autoplay=False)
    for p in (40, 45, 50, 55): w.set(pitch=p, instrument='Organ')        # a burst: the newest wins
    assert w.conditions == {'pitch': 55, 'instrument': 'Organ', 'style': None}
    assert same(w.sound, notes.decode(w.z, pitch=55, instrument='Organ'))   # `sound` waits for its render
    assert w.rendered['conditions'] == w.conditions


def test_the_static_twin_names_the_setting(notes):
    w = make(notes, pitch=55, instrument={'Violin': 0.7, 'Trumpet': 0.3}, style='arco')
    snap = w.snapshot()
    title = snap.fig.axes[0].get_title().replace('\n', ' ')
    assert 'G3 (55)' in title and 'G3' in snap.fig.axes[1].get_title() and 'Violin 0.7' in title and 'Trumpet 0.3' in title and 'style arco' in title, title
    html = snap._repr_html_()
    assert '<img src="data:image/png;base64,' in html and '<audio' in html
    assert 'G3 (55)' in w.status.value


def test_save_sound_keeps_the_note_you_hear(notes, tmp_path):
    w = make(notes, pitch=57, instrument='Trumpet')
    out = w.save_sound('a3 trumpet', folder=tmp_path, level='as is')
    back = lp.load(out)
    assert out.parent == tmp_path and back.sr == notes.sr and len(back.audio) == len(w.sound.audio)
    assert np.abs(back.audio - w.sound.audio).max() < 1e-3
