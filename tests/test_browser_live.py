"""Training in the background, in a real browser (issue 16): while a model trains in the kernel, a slider of a widget
made from `job.model` still answers at once, with a new sound, and the monitor's stop button stops the training.
The harness is tests/browser.py (JupyterLab + headless Chromium); about a minute on 2 cores."""
import os
import time

import pytest

from browser import lab, chromium, page, shot, drag, audio_src, wait_audio_change  # noqa: F401

pytestmark = [pytest.mark.xdist_group('browser'), pytest.mark.slow]

CLICK_S = float(os.environ.get('LATENTPLAY_LIVE_CLICK_S', 3.0))   # the issue asks for a second; slack for 2 busy cores

SETUP = """import time
import latentplay as lp
from latentplay.granular import GrainModel
from latentplay.live import training_monitor
hits = lp.Corpus.builtin('gm-drums', progress=False).filter(label=['kick', 'snare', 'hihat'], kit='Standard')
job = GrainModel.fit(hits, minutes=5, background=True, batch_size=4, hidden=64, latent_dim=8, n_mels=32, embed_dim=8, rnn_hidden=32)
while job.progress['step'] < 3: time.sleep(0.1)"""


def test_a_widget_answers_while_the_model_trains(lab, page):
    root = '.lp-sliders'
    nb = lab.open(page, 'live.ipynb', [SETUP, "training_monitor(job, every=1.0)", "w = lp.sliders(job.model, seconds=0.5); w"])
    handle = page.locator(f'{root} .lp-axis-0 .noUi-handle')
    handle.wait_for(state='visible', timeout=60_000)
    page.locator('.lp-training').first.wait_for(state='visible', timeout=60_000)
    assert nb.py('[w.wait(60), job.running]') == [True, True]
    src0, step0 = audio_src(page, root), nb.py("job.progress['step']")
    shot(page, 'training', '.lp-training')
    t = time.perf_counter()
    drag(page, handle, 40, steps=8)
    released = time.perf_counter()
    src1 = wait_audio_change(page, root, src0, timeout=30)
    took, after = time.perf_counter() - t, time.perf_counter() - released
    shot(page, 'answered', root)
    print(f'during training the sound changed {took:.2f} s after the drag began, {after:.2f} s after the mouse was released')
    assert after < CLICK_S, f'the sliders answered {after:.2f} s after the mouse was released, while the model trained'
    assert src1 != src0 and nb.py('job.running') is True
    assert nb.py("job.progress['step']") > step0                            # the training went on meanwhile
    assert 'learning the grains' in page.locator('.lp-training').first.inner_text()
    page.locator('.lp-training button', has_text='stop').click()
    page.wait_for_function("() => document.querySelector('.lp-training').innerText.includes('stopped')", timeout=60_000)
    assert nb.py('[job.status, job.error is None]') == ['stopped', True]
    shot(page, 'stopped', '.lp-training')
