"""The trimmed note model that ships (`gm-techniques-notes-small`, written by `scripts/train_notes.py --small`): it loads,
is a plain smaller `NoteModel`, plays every condition, reopens from its file, and the sliders offer it what they offer
the full model; and for a note model (one width for all layers) global selection removes the very units local does.
Curves of quality against size: bench/bench_lottery_notes.py."""
import copy
import numpy as np
import pytest
import torch

import latentplay as lp
from latentplay.models import check_protocol, load_model, pretrained_names
from latentplay.lottery import ENGINES, unit_scores, _cut, _size, _allowed, _trimmable, _in_parts
from latentplay.widgets import sliders

pytestmark = pytest.mark.skipif('gm-techniques-notes-small' not in pretrained_names(), reason='the small note model is not shipped here')
PARTS = ('encoder', 'decoder')


@pytest.fixture(scope='module')
def full():
    torch.set_num_threads(1)
    return lp.pretrained('gm-techniques-notes')


@pytest.fixture(scope='module')
def small(): return lp.pretrained('gm-techniques-notes-small')


def parts(m) -> int: return _in_parts(m, PARTS)


def test_small_note_model_is_a_smaller_note_model(full, small, tmp_path):
    ch = small.config()['channels']
    assert type(small) is type(full) and small.kind == 'notes' and check_protocol(small) is small
    assert ch % 8 == 0 and ch < full.config()['channels'] and small.decoder.film[2].out_features == 6 * ch
    assert parts(small) <= 0.3 * parts(full)
    assert {k: v for k, v in small.config().items() if k != 'channels'} == {k: v for k, v in full.config().items() if k != 'channels'}
    assert small.conditions == full.conditions
    t = small.info['trim']
    assert t['settings']['criterion'] == 'information' and t['parameters_before'] == parts(full)
    assert abs(t['history'][-1]['parameters'] - parts(small)) == 0
    h = small.info['held_out']
    assert h['notes'] == 63 and 0 < h['lsd'] < 30 and 0 < h['sc'] < 2          # scored by its script on the held-out notes
    back = load_model(small.save(tmp_path / 's.lp', half=True))
    assert back.config() == small.config()
    assert (tmp_path / 's.lp').stat().st_size < 0.35 * full.save(tmp_path / 'f.lp', half=True).stat().st_size


def test_small_note_model_plays_every_condition(full, small):
    held = lp.Corpus.builtin('gm-techniques', progress=False).split(test=0.1, seed=0)[1]
    s = held[0]
    z = small.encode(s)
    assert z.shape == (1, small.latent_dim)
    for cond in (dict(pitch=s.meta['pitch'], instrument=s.meta['instrument'], style=s.meta['style']),
                 dict(pitch=50, instrument={'Trumpet': 0.7, 'Organ': 0.3}, style={'pizzicato': 0.5, 'arco': 0.5})):
        y = small.decode(z, **cond)
        assert np.isfinite(y.audio).all() and y.rms > 1e-4 and len(y.audio) == small.length
    notes = small.generate(pitch=64, instrument='Guitar', n=2, seed=3)
    assert all(np.isfinite(n.audio).all() and n.peak > 1e-3 for n in notes)
    assert not np.array_equal(notes[0].audio, notes[1].audio)
    with pytest.raises(ValueError, match='outside the range'): small.generate(pitch=small.high + 1)


def test_small_note_model_in_the_sliders(full, small):
    "The widget asks the protocol, so the small model gets the same pickers and plays what decode makes."
    make = lambda m: sliders(m, n_axes=2, names=False, threaded=False, autoplay=False, pitch=55,
                             instrument={'Violin': 0.7, 'Trumpet': 0.3}, style='arco')
    w, wf = make(small), make(full)
    assert list(w.pickers) == list(wf.pickers) == ['pitch', 'instrument', 'style']
    assert (w.pickers['pitch'].slider.min, w.pickers['pitch'].slider.max) == (wf.pickers['pitch'].slider.min, wf.pickers['pitch'].slider.max)
    y = small.decode(w.z, pitch=55, instrument={'Violin': 0.7, 'Trumpet': 0.3}, style='arco')
    assert np.array_equal(w.sound.audio, y.audio)
    w.pickers['pitch'].slider.value = 62
    assert w.conditions['pitch'] == 62 and np.array_equal(w.sound.audio, small.decode(w.z, **w.conditions).audio)


def test_global_selection_keeps_what_local_keeps_in_a_note_model(full):
    "One width (`channels`) for every layer: each layer keeps its own best channels, whatever the selection (distinct scores; ties may break either way)."
    eng = ENGINES['notes']
    groups = [g for g in _trimmable(eng, full, PARTS) if not g.protected]
    scores = unit_scores(groups, 'magnitude')
    kept = {g.name: torch.arange(g.width) for g in groups}
    skeleton = copy.deepcopy(full).to('meta')
    size = lambda k: _size(skeleton, eng, PARTS, k)
    for keep in (0.5, 0.2):
        target = int(keep * parts(full))
        loc, glo = (_cut(scores, kept, True, target, size, sel, 4, _allowed(eng)) for sel in ('local', 'global'))
        assert {g: k.tolist() for g, k in loc.items()} == {g: k.tolist() for g, k in glo.items()}
        assert len({len(k) for k in loc.values()}) == 1 and size(loc) <= target
        for g in groups:                                                      # each layer its own best channels
            best = scores[g.name].argsort(descending=True)[:len(loc[g.name])].sort().values
            assert torch.equal(loc[g.name], best)
