"""Tests of latentplay.widgets in Python (the browser tests are in test_browser.py): every widget with a model seen
through the bare protocol only, background rendering (newest request wins, errors shown and kept, never raised into
the kernel), and the player's file output."""
import threading
import numpy as np
import pytest
import torch

from latentplay.corpus import Corpus
from latentplay.sound import Sound, load
from latentplay.widgets import Latest, player, sliders, latent_map, descriptor_target, sequencer


@pytest.fixture(scope='module')
def small_corpus():
    return Corpus.builtin('gm-drums')[::8]


def test_sliders_with_a_bare_protocol_model(bare, drums):
    w = sliders(bare, n_axes=4, threaded=False, autoplay=False)
    assert w.renders == 1 and len(w.axis_sliders) == 4
    a0 = w.sound.audio.copy()
    w.axis_sliders[0].value = 2.0
    assert w.renders == 2 and not np.allclose(a0, w.sound.audio)
    # the principal axes come from the prior: orthonormal, most spread first
    mean, A, s = w.axes
    assert torch.allclose(A @ A.t(), torch.eye(64), atol=1e-4) and (s[:-1] >= s[1:] - 1e-6).all()
    w.set(label='snare', shape='line', extent=1.0, seconds=0.5)
    assert (w.label, w.shape) == ('snare', 'line') and abs(w.sound.duration - 0.5) < 0.03


def test_map_with_a_bare_protocol_model(bare, small_corpus):
    lm = latent_map(bare, small_corpus, threaded=False, autoplay=False)
    assert len(lm.map) == len(small_corpus)
    xy = lm.map.xy.numpy()
    stroke = np.c_[np.linspace(xy[:, 0].min(), xy[:, 0].max(), 20), np.zeros(20), np.linspace(0, 800, 20)]
    lm.drawn_source.data = dict(x=stroke[:, 0].tolist(), y=stroke[:, 1].tolist(), t=stroke[:, 2].tolist())
    assert lm.renders == 1 and abs(lm.sound.duration - 0.8) < 0.03
    lm.tap_source.data = dict(x=[float(xy[3, 0])], y=[float(xy[3, 1])], n=[1])
    assert lm.selected == 3 and lm.sound is lm.map.sounds[3]
    assert lm.point is not None and lm.point.shape == (64,)


def test_descriptor_target_falls_back_to_greedy(bare):
    dt = descriptor_target(bare, 'centroid', seconds=1.0, threaded=False, autoplay=False)
    assert dt.method == 'greedy'                    # no differentiable render: the greedy search of the paper
    dt.set_target('centroid', [800, 3000])
    assert dt.renders == 1 and dt.result.method == 'greedy'
    assert dt.targets['centroid'][-1] > dt.targets['centroid'][0]
    assert abs(dt.sound.duration - 1.0) < 0.05 and np.isfinite(dt.sound.audio).all()


def test_sequencer_with_a_bare_protocol_model(bare):
    q = sequencer(bare, threaded=False, autoplay=False)   # no generate: label cells are decoded from prior points
    assert q.pattern.names == ['kick', 'snare', 'hihat', 'clap']
    q.click('kick', 0); q.click('snare', 4)
    assert q.renders == 3 and q.sound.rms > 0
    assert len(q.sound) == q.pattern.loop_samples(bare.sr)


def test_background_rendering_replaces_waiting_requests():
    started, release, out = threading.Event(), threading.Event(), []
    def fn(r):
        started.set(); release.wait(5); return r
    lt = Latest(fn, lambda r, o: out.append(o), lambda r, e: out.append(e))
    lt.submit('first'); started.wait(5)
    for r in range(100): lt.submit(r)              # all arrive while 'first' renders
    assert not lt.wait(0.05)                       # busy: wait times out rather than hanging
    release.set()
    assert lt.wait(5)
    assert out == ['first', 99] and lt.skipped == 99


def test_errors_are_shown_and_kept_not_raised(drums):
    w = sliders(drums, threaded=True, autoplay=False)
    assert w.wait(30) and w.error is None
    w._submit(dict(coords=[float('nan')], label=None, seconds=1.0, shape='point', extent=1.0))
    assert w.wait(30)
    assert isinstance(w.error, ValueError) and 'NaN' in w.status.value
    w.axis_sliders[1].value = 1.0                 # the next good setting renders and clears the error
    assert w.wait(30) and w.error is None and w.renders == 2


def test_player_download_keeps_the_level(drums):
    "What you hear is what you download: the link holds the sound as the player plays it (peak at LISTENING_PEAK, issue 16)."
    from latentplay.sound import LISTENING_PEAK
    import base64, io, re, soundfile as sf
    quiet = Sound(0.1 * drums.generate('snare', seed=2).normalize().audio, drums.sr)
    for s, peak in ((quiet, LISTENING_PEAK), (Sound(2 * quiet.audio / 0.1, quiet.sr), LISTENING_PEAK)):
        href = re.search(r'href="data:audio/wav;base64,([^"]+)"', player(s).link.value).group(1)
        a, sr = sf.read(io.BytesIO(base64.b64decode(href)), dtype='float32')
        assert sr == s.sr and len(a) == len(s) and abs(np.abs(a).max() - peak) < 2e-3


def test_player_saves_and_refuses_to_clip(tmp_path, drums):
    s = drums.generate('kick', seed=1)
    p = player(s)
    assert p.save(tmp_path / 'kick.wav').exists()                      # as heard (issue 16's level policy)
    assert np.allclose(load(tmp_path / 'kick.wav').audio, s.as_heard().audio, atol=1e-3)
    assert np.allclose(load(p.save(tmp_path / 'raw.wav', level='as is')).audio, s.audio, atol=1e-3)
    loud = player(Sound(np.full(2205, 1.5, np.float32), 22050))
    with pytest.raises(ValueError, match='clip'):
        loud.save(tmp_path / 'loud.wav', level='as is')
    assert not (tmp_path / 'loud.wav').exists()
    assert np.abs(load(loud.save(tmp_path / 'heard.wav')).audio).max() < 1.0
    with pytest.raises(ValueError, match='no sound'):
        from latentplay.widgets import Player
        Player().save(tmp_path / 'none.wav')


def test_snapshots_are_static_html(drums):
    q = sequencer(drums, threaded=False, autoplay=False)
    q.click('kick', 0)
    html = q.snapshot()._repr_html_()
    assert html.startswith('<div class="lp-snapshot">') and 'data:image/png;base64,' in html and '<audio' in html


def test_every_widget_with_the_stored_grains_baseline(small_corpus):
    "A model of another kind (its latents are standardised grain descriptors): each widget plays it."
    from latentplay.catart import StoredGrains
    sg = StoredGrains.fit(small_corpus, max_grains=1500, progress=False)
    w = sliders(sg, n_axes=3, threaded=False, autoplay=False)
    w.set(coords=[1.0, -0.5, 0.0]); assert w.renders == 2 and w.sound.rms > 0
    lm = latent_map(sg, small_corpus, threaded=False, autoplay=False)
    lm.draw([[-1, 0, 0], [1, 0, 500]])
    assert lm.error is None and abs(lm.sound.duration - 0.5) < 0.03
    dt = descriptor_target(sg, 'loudness', seconds=1.0, threaded=False, autoplay=False)
    dt.set_target('loudness', [-40, -20])
    assert dt.result.method == 'greedy' and np.isfinite(dt.sound.audio).all()
    q = sequencer(sg, threaded=False, autoplay=False)
    q.click(0, 0); assert q.sound.rms > 0


def test_outside_a_kernel_widgets_render_at_once(drums):
    "No live kernel (a script, pytest): the sound of the setting is there as soon as the call returns."
    from latentplay.maps import sound_at
    w = sliders(drums, autoplay=False)
    assert not w._renderer.threaded and w.renders == 1 and w.sound is not None
    w.set(coords=[2])
    assert np.allclose(w.sound.audio, sound_at(drums, [2.0], 1.0)[1].audio, atol=1e-5)


def test_reading_state_waits_for_the_background_render(drums):
    "threaded=True (what JupyterLab gets): `sound`, `path`, `rendered`, `renders` are those of the last setting."
    from latentplay.maps import sound_at
    w = sliders(drums, threaded=True, autoplay=False)
    w.set(coords=[2])
    assert np.allclose(w.sound.audio, sound_at(drums, [2.0], 1.0)[1].audio, atol=1e-5)
    for c in ([1.0, -1.0], [-2.0, 0.5]): w.set(coords=c)
    assert w.rendered['coords'][:2] == [-2.0, 0.5] and len(w.path) * drums.hop_length == len(w.sound)
    assert w.renders == w._renderer.rendered and w.wait(0)
    assert 'renders' in repr(w)


def test_state_read_from_a_render_callback_does_not_wait(drums):
    "Code run by a render (an observer of the player) reads the state without waiting for itself."
    w = sliders(drums, threaded=True, autoplay=False)
    assert w.wait(30)
    seen = []
    w.player.audio.observe(lambda ch: seen.append((w.renders, w.sound is not None)), 'value')
    w.set(coords=[1.0])
    assert w.wait(30) and seen and seen[-1][1]


def test_public_setters(drums, small_corpus):
    "What a tutorial changes has a public setter: tempo and swing, the target duration and method, the map's controls."
    q = sequencer(drums, threaded=False, autoplay=False)
    q.click('kick', 0)
    q.set(tempo=90, swing=0.25)
    assert (q.pattern.tempo, q.pattern.swing, q.tempo_slider.value, q.swing_slider.value) == (90, 0.25, 90, 0.25)
    assert q.renders == 3 and q.rendered_pattern.tempo == 90
    with pytest.raises(ValueError, match='swing'): q.set(swing=0.9)
    assert q.pattern.swing == 0.25
    dt = descriptor_target(drums, 'centroid', seconds=1.0, threaded=False, autoplay=False)
    dt.set(seconds=2.0, method='greedy')
    assert (dt.seconds, dt.method, dt.renders) == (2.0, 'greedy', 0)
    dt.synthesize(); assert abs(dt.sound.duration - 2.0) < 0.05
    lm = latent_map(drums, small_corpus, threaded=False, autoplay=False)
    lm.set(color='centroid', seconds=0.5)
    assert (lm.color_picker.value, lm.seconds) == ('centroid', 0.5)
    lm.draw([[-1, 0, 0], [1, 0, 900]]); assert abs(lm.sound.duration - 0.5) < 0.03


def test_sequencer_steps_is_now_n_steps(drums):
    q = sequencer(drums, n_steps=8, threaded=False, autoplay=False)
    assert q.pattern.n_steps == 8
    with pytest.warns(DeprecationWarning, match='n_steps'):
        old = sequencer(drums, steps=12, threaded=False, autoplay=False)
    assert old.pattern.n_steps == 12


def test_factories_show_their_parameters():
    "The factories delegate to their classes, and their parameters keep their documentation."
    from fastcore.docments import docments
    for f in (player, sliders, latent_map, descriptor_target, sequencer):
        d = docments(f)
        assert 'autoplay' in d and d['autoplay'], (f.__name__, d)
    assert docments(sliders)['n_axes'] == 'number of sliders'


def test_player_embeds_compressed_audio(drums):
    "The audio element holds Ogg Vorbis (a tenth of a WAV's weight); the download stays WAV."
    p = player(drums.generate('kick', seed=1))
    assert p.audio.value[:4] == b'OggS' and p.audio.format == 'ogg'
    assert 'href="data:audio/wav;base64,' in p.link.value


def test_map_click_between_dots_plays_the_blend(bare, small_corpus):
    lm = latent_map(bare, small_corpus, threaded=False, autoplay=False)
    lm.tap(*lm.map.xy[2].tolist())                                   # on a dot: that recording
    assert lm.selected == 2 and lm.sound is lm.map.sounds[2] and 'recording' in lm.status.value
    g = torch.cartesian_prod(torch.linspace(-2, 2, 21), torch.linspace(-2, 2, 21))
    gap = g[torch.cdist(g, lm.map.xy).min(1).values.argmax()].tolist()
    lm.tap(*gap)                                                     # between dots: the lifted point, held
    assert lm.selected is None and 'blend' in lm.status.value
    assert abs(lm.sound.duration - lm.seconds_slider.value) < 0.03
    assert torch.allclose(lm.path[0], lm.map.lift(torch.tensor(gap)), atol=1e-4)
    assert lm.legend.visible and not lm.colorbar.visible
    lm.recolor('loudness')
    assert not lm.legend.visible and lm.colorbar.visible and lm.colorbar.title == 'loudness (dB)'
    lm.undo(); assert lm.selected == 2 and lm.sound is lm.map.sounds[2]   # back to the recording
    lm.undo(); assert lm.sound is None and 'nothing' not in lm.status.value
    lm.undo(); assert 'nothing to undo' in lm.status.value


def test_sequencer_rows_show_the_pattern_and_undo(bare):
    q = sequencer(bare, threaded=False, autoplay=False)
    p = q.pattern.copy(); p.set('snare', [4, 12], stretch=2.0, morph={'to': 'kick', 'amount': 0.6}); p.tempo = 90
    q.set_pattern(p)
    assert [c.value for c in q._row_controls[1]] == [2.0, 'kick', 0.6]       # the morph menu shows the row's value
    assert [c.value for c in q._row_controls[0]] == [1.0, '', 0.3]
    before = q.pattern.copy()
    q.click('kick', 0); q.set(tempo=120); q.set_row('snare', stretch=0.5)
    assert q.pattern.tempo == 120 and q.pattern.cell('kick', 0) is not None
    q.undo(); assert q.pattern.cell('snare', 4)['stretch'] == 2.0 and q._row_controls[1][0].value == 2.0
    q.undo(); assert q.pattern.tempo == 90 and q.tempo_slider.value == 90
    q.undo(); assert q.pattern == before and q.cells[0, 0].style.button_color != 'rgba(31, 78, 121, 1.00)'
    assert len(q.sound) == q.pattern.loop_samples(bare.sr)


def test_descriptor_target_says_when_stale_and_undoes(bare):
    dt = descriptor_target(bare, 'centroid', seconds=1.0, threaded=False, autoplay=False)
    dt.set_target('centroid', [800, 3000])
    assert 'follows the curve within' in dt.status.value and 'latents tried' in dt.status.value and not dt.stale
    dt.set(seconds=2.0)
    assert dt.stale and 'press <b>synthesize</b>' in dt.status.value and dt._achieved_lines['centroid'].line_color == '#aaaaaa'
    assert abs(dt.sound.duration - 1.0) < 0.05                    # the old sound stays, marked as old
    dt.synthesize(); assert not dt.stale and abs(dt.sound.duration - 2.0) < 0.05
    first = dt.result
    dt.set_target('centroid', [3000, 500])
    dt.undo()
    assert dt.targets['centroid'][0] < dt.targets['centroid'][-1] and dt.result is first


def test_save_sound_numbers_files_and_saves_what_you_hear(bare, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    w = sliders(bare, n_axes=2, threaded=False, autoplay=False)
    a = w.save_sound()
    assert a == tmp_path / 'latentplay-work' / 'sliders.wav'
    b = w.save_sound()
    c = w.save_sound('my hit')
    d = w.save_sound('../../escape.flac', folder=tmp_path / 'out')
    assert b.name == 'sliders-2.wav' and c.name == 'my hit.wav' and d == tmp_path / 'out' / 'escape.flac'
    heard = load(a).audio
    assert abs(np.abs(heard).max() - np.abs(w.sound.as_heard().audio).max()) < 1e-3
    raw = w.save_sound(level='as is')
    assert np.allclose(load(raw).audio, w.sound.audio, atol=1e-3)
    w.save_name.value = 'from the box'; w.save_button.click()
    assert (tmp_path / 'latentplay-work' / 'from the box.wav').exists() and 'saved' in w.status.value
    with pytest.raises(ValueError, match='nothing to undo'): w.undo()


# -------------------------------------------------------------------------------------------------- the browser-side player
def test_synth_gets_each_render(drums):
    "Each render sends the browser-side player the sound (the same Ogg as the audio element), its duration and a count."
    from latentplay.widgets import Synth
    w = sliders(drums, threaded=False)
    s = w.player.synth
    assert isinstance(s, Synth) and s in w.player.children
    assert (s.sent, s.loop, s.exclusive, s.playing) == (1, True, False, True)      # sliders loop: a synth while you play
    assert s.value == w.player.audio.value and s.value[:4] == b'OggS'
    assert abs(s.duration - w.sound.duration) < 1e-6
    first = s.value
    msgs = []
    s.observe(lambda ch: msgs.append(ch['name']), names=['value', 'sent', 'playing'])
    w.set(coords=[1.0])
    assert s.sent == 2 and s.value != first and s.value == w.player.audio.value
    assert msgs.count('value') == 1 and msgs.count('sent') == 1 and 'playing' not in msgs   # already playing: no restart
    assert w.player.audio.autoplay is False                   # the audio element waits: one sound at a time
    s.playing = False                                         # what the browser says after a stop
    w.set(coords=[2.0])
    assert s.playing is True and s.sent == 3                  # autoplay: the next render plays again


def test_synth_per_widget_kind(drums, bare, small_corpus):
    "Loops loop, one-shots play once; only sequencers are exclusive (unless asked); no autoplay: nothing plays."
    from latentplay.widgets import stop_all
    seq = sequencer(drums, threaded=False)
    assert (seq.player.synth.loop, seq.player.synth.exclusive, seq.player.synth.steps) == (True, True, 16)
    assert sequencer(drums, threaded=False, exclusive=False).player.synth.exclusive is False
    lm = latent_map(bare, small_corpus, threaded=False)
    lm.play(0)
    assert (lm.player.synth.loop, lm.player.synth.exclusive, lm.player.synth.playing, lm.player.synth.sent) == (False, False, True, 1)
    quiet = sliders(drums, threaded=False, autoplay=False)
    assert quiet.player.synth.playing is False and quiet.player.synth.sent == 1
    quiet.player.play(); assert quiet.player.synth.playing is True
    stop_all()
    assert not any(x.player.synth.playing for x in (seq, lm, quiet))
    p = player(drums.generate('kick', seed=1))
    assert p.synth.playing is False and p.synth.value == p.audio.value
