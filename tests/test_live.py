"""Training in the background (latentplay.train.TrainingJob, GrainModel.fit(background=True)) and its live view
(latentplay.live): a tiny model learns a few real drum hits for a few seconds while the calling thread stays free."""
import subprocess, sys, threading, time

import numpy as np
import pytest
import torch

from latentplay.granular import GrainModel
from latentplay.live import TrainingMonitor, loss_png, training_monitor
from latentplay.models import load_model
from latentplay.train import Budget, Stages, TrainingJob, train_in_background
from latentplay.widgets import sliders

TINY = dict(hidden=64, latent_dim=8, n_mels=32, embed_dim=8, rnn_hidden=32, seq_seconds=0.4, batch_size=4)


@pytest.fixture(scope='module')
def hits(gm_drums):
    return gm_drums.filter(label=['kick', 'snare', 'hihat'], kit='Standard')


def _until(ok, timeout=30.0):
    "Wait until `ok()` (the data of a run is prepared before its first step: a few seconds on a busy machine)."
    t = time.perf_counter()
    while not ok():
        assert time.perf_counter() - t < timeout, 'timed out'
        time.sleep(0.05)


def _decode_seconds(m, z):
    t = time.perf_counter(); out = m.decode(z); return time.perf_counter() - t, out


def test_the_kernel_stays_free_and_the_model_plays_while_it_learns(hits, tmp_path):
    torch.set_num_threads(1)
    threads_before = torch.get_num_threads()
    job = GrainModel.fit(hits, minutes=0.25, background=True, checkpoint=tmp_path / 'run.lp', refresh=0.2, validate_every=2, **TINY)
    t = time.perf_counter(); assert isinstance(job, TrainingJob) and not job.done
    assert time.perf_counter() - t < 1.0                                          # returns at once
    m = job.model                                                                 # the playable copy, made at the start
    z = torch.randn(40, 8)
    idle = min(_decode_seconds(GrainModel(sr=hits.sr, **{k: v for k, v in TINY.items() if k != 'batch_size'}), z)[0] for _ in range(2))
    w = sliders(m)                                                                # a widget made during training
    _until(lambda: job.progress['step'] >= 3)
    p1 = job.progress
    assert job.running and p1['step'] > 0 and p1['words'].startswith('learning the grains: ') and 'then learning the sequences' in p1['words']
    assert p1['left'] is not None and 0 < p1['left'] <= 15
    weights = []
    for _ in range(3):                                                             # decodes from this thread while it trains
        took, out = _decode_seconds(m, z)
        assert took < max(1.0, 5 * idle), (took, idle)
        assert np.isfinite(out.audio).all() and out.peak > 0
        weights.append(m.decoder.net[0].weight.detach().clone())
        time.sleep(0.5)
    assert not torch.equal(weights[0], weights[-1])                               # the same object, newer weights
    assert job.progress['step'] > p1['step']                                      # progress advances
    w.set(coords=[1.0]); assert np.isfinite(w.sound.audio).all()
    assert job.wait(timeout=60) is m and job.status == 'finished' and job.error is None
    assert job.progress['words'].startswith('finished; ') and job.progress['left'] is None
    stages = [h.get('stage') for h in job.history if 'loss' in h]
    assert stages[0] == 'grains' and stages[-1] == 'sequence'
    assert torch.equal(m.decoder.net[0].weight, job.result.decoder.net[0].weight) and m.info['steps']['grains'] > 0
    assert np.allclose(load_model(tmp_path / 'run.lp').decode(z).audio, m.decode(z).audio, atol=1e-6)   # the finished file
    got = []; th = threading.Thread(target=lambda: got.append(torch.get_num_threads())); th.start(); th.join()
    assert got == [threads_before]                                                # torch's thread setting is put back
    assert type(m).__name__ == 'GrainModel' and isinstance(m, GrainModel)
    from latentplay.models import model_class
    assert model_class('grains') is GrainModel                                    # the locking copy is no model kind of its own


def test_stop_keeps_the_weights_and_resume_continues(hits, tmp_path):
    job = GrainModel.fit(hits, minutes=0.5, background=True, checkpoint=tmp_path / 'run.lp', **TINY)
    m = job.model
    _until(lambda: job.progress['step'] >= 3)
    t = time.perf_counter(); job.stop(); assert time.perf_counter() - t < 10
    assert job.done and job.status == 'stopped' and job.progress['words'].startswith('stopped; ')
    assert torch.equal(m.decoder.net[0].weight, job.result.decoder.net[0].weight)       # what was learned is kept
    assert (tmp_path / 'run.lp').exists()                                               # and written
    n = job.progress['step']
    job.resume(); _until(lambda: job.progress['step'] > n + 2); job.stop()
    assert job.progress['step'] > n and job.model is m and job.status == 'stopped'
    assert np.isfinite(m.decode(torch.randn(10, 8)).audio).all()


def test_errors_land_on_the_handle(hits):
    job = GrainModel.fit(hits[:0], minutes=0.1, background=True, **TINY)
    job._thread.join(30)
    assert job.done and job.status == 'failed' and isinstance(job.error, ValueError) and 'empty' in str(job.error)
    assert 'ValueError' in job.traceback and 'failed' in job.progress['words']
    with pytest.raises(RuntimeError, match='failed'): job.wait()
    with pytest.raises(RuntimeError, match='before it made a model'): job.model
    mon = TrainingMonitor(job, live=False)
    assert 'empty' in mon.text.value and mon.stop_button.disabled


def test_the_monitor(hits):
    job = GrainModel.fit(hits, max_steps=30, background=True, **TINY)
    mon = training_monitor(job)                                # no live kernel here: it refreshes when asked
    assert isinstance(mon, TrainingMonitor)
    job.wait(timeout=120); mon.update()
    assert 'finished' in mon.text.value and 'step ' in mon.text.value and mon.plot.value[:4] == b'\x89PNG'
    assert mon.stop_button.disabled and mon.resume_button.disabled
    assert 'data:image/png;base64' in mon.snapshot().data
    with pytest.raises(RuntimeError, match='finished'): job.resume()
    assert loss_png([])[:4] == b'\x89PNG'


def test_progress_words_for_a_step_budget():
    plan = Stages(Budget(max_steps=400), {'grains': ('learning the grains', 3), 'sequence': ('learning the sequences', 1)})
    assert plan.words('grains', 100, 10.0) == 'learning the grains: step 100 of 300; then learning the sequences, 100 steps (30 s left)'


def test_python_exits_cleanly_with_a_job_running(tmp_path):
    code = f"""
import time, torch
from latentplay.corpus import Corpus
from latentplay.granular import GrainModel
hits = Corpus.builtin('gm-drums', progress=False).filter(label=['kick', 'snare'], kit='Standard')
job = GrainModel.fit(hits, minutes=5, background=True, checkpoint={str(tmp_path / 'exit.lp')!r}, **{TINY!r})
job.model
while job.progress['step'] < 2: time.sleep(0.05)
print('leaving at step', job.progress['step'], flush=True)
"""
    t = time.perf_counter()
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'leaving at step' in r.stdout and 'Traceback' not in r.stderr and time.perf_counter() - t < 90
    assert (tmp_path / 'exit.lp').exists()                       # the job stopped between two steps and kept its work
