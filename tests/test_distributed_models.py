"""Data-parallel training of the note models (`TimbreSpace`, `NoteModel`) through torch.distributed, as
tests/test_distributed.py does for grains: two gloo processes on this machine's CPUs (started by torchrun) take the same
steps as one process with the same global batch, rank 0 alone writes the checkpoint, and a run resumes from it.

Tolerances: the terms that are means over the batch (reconstruction, KL, the critic's cross-entropies) give the same
averaged gradients on 1 or 2 processes, so their losses agree to float error (relative 1e-3 is asked). Two terms are
not means over items, so each process computes them on its half only: the MMD of `NoteModel` (a kernel over pairs of
the batch) and the perceptual regulariser of `TimbreSpace` (over the batch's instrument centroids). They are therefore
only compared where they are off: `NoteModel` runs with `mmd_weight=0`, and `TimbreSpace`'s first (plain) stage is
compared while its second (perceptual) stage is only checked to train (finite losses), not to match."""
import json, os, subprocess, sys, textwrap
from pathlib import Path

import pytest
import torch

TIMEOUT = 300

# one training run of a tiny model; argv: kind (timbre|notes), checkpoint, steps, [resume|stop-at-N]
SCRIPT = textwrap.dedent('''
    import json, os, sys, torch
    torch.set_num_threads(1)
    from latentplay.corpus import Corpus
    kind, ckpt, steps, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else ''
    rank = int(os.environ.get('RANK', '0'))
    ckpt = ckpt.replace('RANK', str(rank))
    if kind == 'timbre':
        from latentplay.timbre import TimbreSpace
        notes = Corpus.builtin('gm-notes', progress=False).filter(instrument=['Flute', 'Oboe', 'Trumpet', 'Violin'], velocity=[85])
        m = TimbreSpace.fit(notes, max_steps=steps, per_instrument=4, checkpoint=ckpt,
                            resume=mode == 'resume', latent_dim=4, hidden=32, layers=2, progress=False)
    else:
        from latentplay.notes import NoteModel, _NoteRun
        if mode.startswith('stop-at-'):           # Ctrl-C at a given step, in every process (as a terminal sends it)
            at, step = int(mode[8:]), _NoteRun.step
            def stopping(self, i, p):
                if i == at: raise KeyboardInterrupt
                return step(self, i, p)
            _NoteRun.step = stopping
        notes = Corpus.builtin('gm-techniques', progress=False).filter(instrument=['Violin', 'Trumpet'], velocity=[85])
        m = NoteModel.fit(notes, max_steps=steps, batch_size=8, checkpoint=ckpt, resume=mode == 'resume',
                          mmd_weight=0.0, validate_every=1e9, latent_dim=4, channels=16,
                          frames=32, progress=False)
    out = {'rank': rank, 'world': int(os.environ.get('WORLD_SIZE', '1')),
           'losses': [[h.get('stage', ''), h['step'], h['loss']] for h in m.history if 'loss' in h]}
    with open(f'result-{rank}.json', 'w') as f: json.dump(out, f)    # one file per process: their stdout interleave
''')


def _run(tmp, nproc, *args):
    script = tmp / 'train_one.py'
    script.write_text(SCRIPT)
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONWARNINGS': 'ignore'}
    head = [sys.executable] if nproc == 1 else [sys.executable, '-m', 'torch.distributed.run', '--standalone', f'--nproc_per_node={nproc}']
    for f in tmp.glob('result-*.json'): f.unlink()
    r = subprocess.run([*head, str(script), *map(str, args)], capture_output=True, text=True, timeout=TIMEOUT, env=env, cwd=tmp)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    res = [json.loads(f.read_text()) for f in tmp.glob('result-*.json')]
    assert len(res) == nproc, r.stdout[-2000:]
    return sorted(res, key=lambda d: d['rank'])


def _same(a, b, rel=1e-3):
    assert [s[:2] for s in a] == [s[:2] for s in b] and len(a) > 0, (a, b)
    for (stage, step, x), (_, _, y) in zip(a, b):
        assert abs(x - y) <= rel * abs(x), f'{stage} step {step}: one process {x}, two processes {y}'


@pytest.fixture(scope='module')
def tmp(tmp_path_factory): return tmp_path_factory.mktemp('ddp_models')


@pytest.mark.parametrize('kind', ['timbre', 'notes'])
def test_two_processes_take_the_steps_of_one(tmp, kind):
    one = _run(tmp, 1, kind, tmp / f'{kind}-one.lp', 6)[0]['losses']
    two = _run(tmp, 2, kind, tmp / f'{kind}-two-RANK.lp', 6)
    assert [d['world'] for d in two] == [2, 2]
    assert two[1]['losses'] == two[0]['losses']              # every process logs the mean over all of them
    b = two[0]['losses']
    if kind == 'timbre':                                      # plain stage: the same; perceptual stage: trains
        assert [s[0] for s in one] == [s[0] for s in b] == ['plain'] * 3 + ['perceptual'] * 3, (one, b)
        assert all(abs(s[2]) < 1e4 for s in one + b)
        one, b = one[:3], b[:3]
    _same(one, b)
    files = sorted(p.name for p in tmp.glob(f'{kind}-two-*'))
    assert files == [f'{kind}-two-0.lp'], f'rank 0 alone writes the checkpoint: {files}'
    from latentplay.models import load_model
    m = load_model(tmp / f'{kind}-two-0.lp')
    assert m.kind == kind and m.info['steps'] in (6, {'plain': 3, 'perceptual': 3})
    if kind == 'timbre':                                      # resuming a finished run returns its file, untouched
        from latentplay.corpus import Corpus
        from latentplay.timbre import TimbreSpace
        with pytest.warns(UserWarning, match='finished model'):
            again = TimbreSpace.fit(Corpus.builtin('gm-notes', progress=False), max_steps=6, checkpoint=tmp / 'timbre-two-0.lp', resume=True)
        assert all(torch.equal(x, y) for x, y in zip(again.state_dict().values(), m.state_dict().values()))


def test_notes_interrupted_run_resumes(tmp):
    "A two-process NoteModel run stopped at step 3 resumes from its checkpoint and ends as a plain model file."
    ckpt = tmp / 'notes-run.lp'
    first = _run(tmp, 2, 'notes', ckpt, 6, 'stop-at-3')
    assert [s[1] for s in first[0]['losses']] == [1, 2, 3]
    from latentplay.train import checkpoint_info
    assert checkpoint_info(ckpt)['training']['state']['step'] == 3
    rest = _run(tmp, 2, 'notes', ckpt, 6, 'resume')
    assert [s[1] for s in rest[0]['losses']] == [1, 2, 3, 4, 5, 6]
    assert checkpoint_info(ckpt).get('training') is None
