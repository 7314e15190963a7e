"""Data-parallel training through torch.distributed: two gloo processes on this machine's CPUs (started by torchrun, as
`latentplay train --nproc 2` starts them) take the same steps as one process with the same global batch, rank 0 alone
writes the checkpoint, and an interrupted two-process run resumes from it."""
import json, os, subprocess, sys, textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 300

# one training run: a tiny model on three drum classes; argv: checkpoint, steps, [resume|stop-at-N]
SCRIPT = textwrap.dedent('''
    import json, os, sys, torch
    torch.set_num_threads(1)
    from latentplay.corpus import Corpus
    from latentplay.granular import GrainModel, _Run
    from latentplay.train import world
    ckpt, steps, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else ''
    if mode.startswith('stop-at-'):               # Ctrl-C at a given step, in every process (as a terminal sends it)
        at, step = int(mode[8:]), _Run.grain_step
        def stopping(self, i, p):
            if i == at: raise KeyboardInterrupt
            return step(self, i, p)
        _Run.grain_step = stopping
    rank = int(os.environ.get('RANK', '0'))
    ckpt = ckpt.replace('RANK', str(rank))
    hits = Corpus.builtin('gm-drums', progress=False).filter(label=['kick', 'snare', 'hihat'], kit='Standard')
    m = GrainModel.fit(hits, max_steps=steps, checkpoint=ckpt, resume=mode == 'resume', batch_size=4, validate_every=1e9,
                       hidden=32, latent_dim=4, n_mels=16, embed_dim=4, rnn_hidden=16, seq_seconds=0.3, progress=False)
    out = {'rank': rank, 'world': int(os.environ.get('WORLD_SIZE', '1')),
           'losses': [[h['stage'], h['step'], h['loss']] for h in m.history if 'loss' in h]}
    with open(f'result-{rank}.json', 'w') as f: json.dump(out, f)    # one file per process: their stdout lines can interleave
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


@pytest.fixture(scope='module')
def tmp(tmp_path_factory): return tmp_path_factory.mktemp('ddp')


def test_two_processes_take_the_steps_of_one(tmp):
    one = _run(tmp, 1, tmp / 'one.lp', 8)[0]
    two = _run(tmp, 2, tmp / 'two-RANK.lp', 8)
    assert [d['world'] for d in two] == [2, 2]
    a, b = one['losses'], two[0]['losses']
    assert [s[:2] for s in a] == [s[:2] for s in b] and len(a) == 8, (a, b)
    for (stage, step, x), (_, _, y) in zip(a, b):           # the same global batch of 4: 2 + 2 items, averaged gradients
        assert abs(x - y) <= 1e-3 * abs(x), f'{stage} step {step}: one process {x}, two processes {y}'
    assert two[1]['losses'] == b                             # every process logs the mean over all of them
    files = sorted(p.name for p in tmp.glob('two-*'))
    assert files == ['two-0.lp'], f'rank 0 alone writes the checkpoint: {files}'
    from latentplay.models import load_model
    m = load_model(tmp / 'two-0.lp')
    assert m.info['steps'] == {'grains': 6, 'sequence': 2}


def test_an_interrupted_run_resumes(tmp):
    ckpt = tmp / 'run.lp'
    first = _run(tmp, 2, ckpt, 8, 'stop-at-3')
    assert [s[1] for s in first[0]['losses']] == [1, 2, 3]    # steps 0..2 ran, then Ctrl-C
    from latentplay.train import checkpoint_info
    assert checkpoint_info(ckpt)['training']['state']['step'] == 3
    rest = _run(tmp, 2, ckpt, 8, 'resume')
    steps = [(s[0], s[1]) for s in rest[0]['losses']]
    assert steps == [('grains', i) for i in range(1, 7)] + [('sequence', 1), ('sequence', 2)], steps
    assert checkpoint_info(ckpt).get('training') is None     # finished: a plain model file


def test_cli_trains_on_two_processes(tmp):
    "`latentplay train --nproc 2` starts the two processes itself; one JSON line, one model; bad requests refused first."
    from latentplay.corpus import Corpus
    folder = tmp / 'hits'
    for i, s in enumerate(Corpus.builtin('gm-drums', progress=False).filter(label=['kick', 'snare']).sounds[:16]):
        s.save(folder / s.meta['label'] / f'{i}.wav')
    cli = [sys.executable, '-m', 'latentplay.cli', 'train', str(folder)]
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    r = subprocess.run([*cli, '--max-steps', '4', '--nproc', '2', '--out', str(tmp / 'cli.lp')], capture_output=True, text=True,
                       timeout=TIMEOUT, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    lines = [json.loads(l) for l in r.stdout.splitlines() if l.startswith('{')]
    assert len(lines) == 1 and lines[0]['steps'] == {'grains': 3, 'sequence': 1}, r.stdout
    for args, words in [(['--nproc', '0'], '--nproc'), (['--nproc', '2', '--model', 'stored-grains'], 'one go')]:
        r = subprocess.run([*cli, '--out', str(tmp / 'bad.lp'), *args], capture_output=True, text=True, timeout=60, env=env)
        assert r.returncode == 2 and words in r.stderr and 'Traceback' not in r.stderr, r.stderr
    assert not (tmp / 'bad.lp').exists()
