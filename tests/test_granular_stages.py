"""GrainModel.fit's optional third stage (both levels fine-tuned together, as the paper's last stage): it runs, it
checkpoints and resumes like the other stages, and a bad `stages=` is refused clearly. Tiny models, a few steps."""
import warnings
import numpy as np
import pytest
import torch

from latentplay.granular import GrainModel, _Run, _check_training
from latentplay.train import read_checkpoint

TINY = dict(hidden=64, latent_dim=8, n_mels=32, embed_dim=8, rnn_hidden=32, seq_seconds=0.4)
RUN = dict(progress=False, batch_size=4, validate_every=1e9, checkpoint_every=1e9, **TINY)


@pytest.fixture(scope='module')
def hits(gm_drums):
    return gm_drums.filter(label=['kick', 'snare'], kit='Standard')


def test_three_stages_run_and_keep_their_history(hits):
    m = GrainModel.fit(hits, max_steps=10, stages=(0.4, 0.2, 0.4), **RUN)
    assert m.info['steps'] == {'grains': 4, 'sequence': 2, 'joint': 4}
    joint = [h for h in m.info['history'] if h.get('stage') == 'joint']
    assert any('spectral' in h and 'sequence_kl' in h for h in joint) and any('val_lsd' in h for h in joint)
    g = m.generate(label='snare', n=2, seed=0)
    assert all(np.isfinite(s.audio).all() and np.abs(s.audio).max() > 0 for s in g)


def test_joint_stage_resumes_as_if_never_stopped(hits, tmp_path, monkeypatch):
    "Stopped (Ctrl-C) in the middle of the joint stage, then resumed: the same model as a run never stopped."
    opts = dict(max_steps=10, stages=(0.3, 0.2, 0.5), **RUN)
    whole = GrainModel.fit(hits, checkpoint=tmp_path / 'whole.lp', **opts)
    real = _Run.joint_step
    def stop_at_3(self, i, p):                                           # the user presses Ctrl-C during the joint stage's 4th step
        if i == 3: raise KeyboardInterrupt
        return real(self, i, p)
    monkeypatch.setattr(_Run, 'joint_step', stop_at_3)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        GrainModel.fit(hits, checkpoint=tmp_path / 'cut.lp', **opts)
    tr = read_checkpoint(tmp_path / 'cut.lp')[1]['training']
    assert tr['stage'] == 'joint' and tr['done_stages'] == ['grains', 'sequence'] and tr['state']['step'] == 3
    assert _check_training(tr)
    monkeypatch.setattr(_Run, 'joint_step', real)
    back = GrainModel.fit(hits, checkpoint=tmp_path / 'cut.lp', resume=True, **opts)
    assert back.info['steps'] == whole.info['steps']
    a, b = whole.state_dict(), back.state_dict()
    cov = lambda m: m.latent_axes.T @ torch.diag(m.latent_scales ** 2) @ m.latent_axes   # axes of equal spread may turn: compare the spread
    torch.testing.assert_close(cov(back), cov(whole), rtol=1e-3, atol=1e-5)
    for k in a:
        if k not in ('latent_axes', 'latent_scales'): torch.testing.assert_close(b[k], a[k], rtol=1e-4, atol=1e-5, msg=k)
    assert read_checkpoint(tmp_path / 'cut.lp')[1].get('training') is None          # finished: a plain model file


def test_saved_training_states_of_every_stage_are_accepted():
    for stage in ('grains', 'sequence', 'joint'): assert _check_training({'stage': stage, 'optim': {}})   # old files too
    assert not _check_training({'stage': 'polish', 'optim': {}})


@pytest.mark.parametrize('bad', [(1.0,), (0.5, 0.3, 0.1, 0.1), (0.75, 0), (0.75, -0.25), (0.5, float('nan')), 'ab', (True, 1), None])
def test_bad_stages_are_refused_clearly(hits, bad):
    with pytest.raises(ValueError, match=r'stages must be two or three positive shares .*\(grains, sequence, joint\)'):
        GrainModel.fit(hits, max_steps=2, stages=bad, **RUN)


def test_joint_stage_runs_data_parallel(tmp_path):
    "Two gloo processes (as `--nproc 2` starts them) take the joint stage's steps as one process does with the same batch."
    import json, os, subprocess, sys, textwrap
    script = tmp_path / 'joint.py'
    script.write_text(textwrap.dedent('''
        import json, os, sys, torch
        torch.set_num_threads(1)
        from latentplay.corpus import Corpus
        from latentplay.granular import GrainModel
        hits = Corpus.builtin('gm-drums', progress=False).filter(label=['kick', 'snare'], kit='Standard')
        m = GrainModel.fit(hits, max_steps=6, stages=(0.34, 0.33, 0.33), batch_size=4, validate_every=1e9, progress=False,
                           hidden=32, latent_dim=4, n_mels=16, embed_dim=4, rnn_hidden=16, seq_seconds=0.5)
        rank = int(os.environ.get('RANK', '0'))
        with open(f'result-{rank}.json', 'w') as f: json.dump([[h['stage'], h['loss']] for h in m.history if 'loss' in h], f)
    '''))
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONWARNINGS': 'ignore'}
    out = {}
    for n in (1, 2):
        head = [sys.executable] if n == 1 else [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2']
        r = subprocess.run([*head, str(script)], capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
        out[n] = json.loads((tmp_path / 'result-0.json').read_text())
    assert [s for s, _ in out[1]] == [s for s, _ in out[2]] and [s for s, _ in out[1]].count('joint') == 2
    for (stage, x), (_, y) in zip(out[1], out[2]): assert abs(x - y) <= 1e-3 * abs(x), (stage, x, y)
