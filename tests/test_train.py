"Tests of latentplay.train: the checkpoint file (its header read alone, every kind of wrong file) and the fit loop."
import json
import os
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

import latentplay
from latentplay.train import FORMAT, Budget, CheckpointError, checkpoint_info, fit_loop, read_checkpoint, write_checkpoint

PRETRAINED = sorted((Path(latentplay.__file__).parent / 'pretrained').glob('*.lp'))


@pytest.fixture
def ckpt(tmp_path):
    return write_checkpoint(tmp_path / 'm.lp', {'w': torch.arange(6.).reshape(2, 3), 'b': torch.zeros(4, dtype=torch.float16)},
                            {'kind': 'demo', 'sr': 16000, 'labels': ['a', 'b']})


def test_checkpoint_info_reads_the_header_only(ckpt):
    info = checkpoint_info(ckpt)
    assert (info['kind'], info['sr'], info['labels'], info['format']) == ('demo', 16000, ['a', 'b'], FORMAT)
    assert info['file'] == {'bytes': ckpt.stat().st_size, 'tensors': 2, 'values': 10, 'dtypes': ['F16', 'F32']}
    _, meta = read_checkpoint(ckpt)
    assert {k: v for k, v in info.items() if k != 'file'} == meta
    json.dumps(info)                                                            # plain JSON, for a command line


def test_checkpoint_info_does_not_read_the_tensors(ckpt, monkeypatch):
    monkeypatch.setattr(Path, 'read_bytes', lambda self: pytest.fail('checkpoint_info read the whole file'))
    assert checkpoint_info(ckpt)['kind'] == 'demo'


@pytest.mark.parametrize('path', PRETRAINED, ids=lambda p: p.name)
def test_shipped_models_have_a_readable_header(path):
    info = checkpoint_info(path)
    from latentplay.models import BUILTIN_KINDS
    assert info['kind'] in BUILTIN_KINDS and info['format'] <= FORMAT and info['file']['tensors'] > 0


def test_a_wrong_kind_is_refused_before_the_tensors_are_read(ckpt, monkeypatch):
    monkeypatch.setattr(Path, 'read_bytes', lambda self: pytest.fail('the tensors were read'))
    with pytest.raises(CheckpointError, match="holds a 'demo' model, not a 'grains' model"): read_checkpoint(ckpt, kind='grains')


def test_every_kind_of_wrong_file(tmp_path, ckpt):
    with pytest.raises(FileNotFoundError, match='no checkpoint'): read_checkpoint(tmp_path / 'none.lp')
    with pytest.raises(FileNotFoundError, match='no checkpoint'): checkpoint_info(tmp_path / 'none.lp')
    with pytest.raises(CheckpointError, match='is a folder'): read_checkpoint(tmp_path)
    for name, data in [('notes.lp', b'my notes'), ('empty.lp', b''), ('huge.lp', (10 ** 12).to_bytes(8, 'little') + b'{}'),
                       ('list.lp', (2).to_bytes(8, 'little') + b'[]')]:
        (tmp_path / name).write_bytes(data)
        for f in (read_checkpoint, checkpoint_info):
            with pytest.raises(CheckpointError, match='not a latentplay checkpoint'): f(tmp_path / name)
    save_file({'x': torch.zeros(2)}, str(tmp_path / 'other.safetensors'))
    with pytest.raises(CheckpointError, match='not a latentplay checkpoint'): read_checkpoint(tmp_path / 'other.safetensors')
    save_file({'x': torch.zeros(2)}, str(tmp_path / 'bad.lp'), metadata={'latentplay': '{not json'})
    with pytest.raises(CheckpointError, match='header is damaged'): read_checkpoint(tmp_path / 'bad.lp')
    (tmp_path / 'cut.lp').write_bytes(ckpt.read_bytes()[:-5])
    for f in (read_checkpoint, checkpoint_info):
        with pytest.raises(CheckpointError, match='is damaged'): f(tmp_path / 'cut.lp')


def test_a_newer_format_asks_for_an_upgrade(tmp_path):
    meta = {'kind': 'demo', 'format': FORMAT + 1, 'latentplay': '9.0'}
    save_file({'x': torch.zeros(2)}, str(tmp_path / 'new.lp'), metadata={'latentplay': json.dumps(meta)})
    assert checkpoint_info(tmp_path / 'new.lp')['format'] == FORMAT + 1         # its header can still be shown
    with pytest.raises(CheckpointError, match='upgrade latentplay'): read_checkpoint(tmp_path / 'new.lp')
    (tmp_path / 'new-cut.lp').write_bytes((tmp_path / 'new.lp').read_bytes()[:-3])
    with pytest.raises(CheckpointError, match='upgrade latentplay'): read_checkpoint(tmp_path / 'new-cut.lp')


@pytest.mark.skipif(not hasattr(os, 'mkfifo'), reason='needs named pipes')
def test_a_pipe_is_refused_without_waiting(tmp_path):
    os.mkfifo(tmp_path / 'pipe.lp')                                               # opening it would block until a writer came
    for f in (read_checkpoint, checkpoint_info):
        with pytest.raises(CheckpointError, match='not a regular file'): f(tmp_path / 'pipe.lp')


def test_fit_loop_records_and_resumes():
    calls = []
    def step(i, progress): calls.append(progress); return {'loss': 1.0 / (i + 1)}
    st = fit_loop(step, Budget(max_steps=10), validate=lambda: {'loss': 0.0}, validate_every=1e9, progress=False, stage='s1')
    assert st['step'] == 10 and not st['interrupted'] and calls[0] == 0.0 and calls[-1] == 0.9
    assert [h['step'] for h in st['history']] == list(range(1, 11)) + [10] and st['history'][-1]['val_loss'] == 0.0
    assert all(h['stage'] == 's1' for h in st['history'])
    st2 = fit_loop(step, Budget(max_steps=15), start={k: st[k] for k in ('step', 'seconds', 'history')}, progress=False)
    assert st2['step'] == 15 and len(st2['history']) == 16


def test_progress_in_words():
    "The bar leads with words: the stage, its share of the budget, what comes next and the time left (issue 16)."
    from latentplay.train import Stages, duration_words, _words
    assert [duration_words(s) for s in (3, 72, 120, 3900)] == ['3 s', '1 min 12 s', '2 min', '1 h 5 min']
    plan = Stages(Budget(minutes=2), {'grains': ('learning the grains', 0.75), 'sequence': ('learning the sequences', 0.25)})
    assert plan.words('grains', 500, 72) == 'learning the grains: 1 min 12 s of 1 min 30 s; then learning the sequences, 30 s (48 s left)'
    assert plan.words('sequence', 9, 10) == 'learning the sequences: 10 s of 30 s'
    assert _words(plan, plan.budgets['grains'], 'grains', 'grains', {'step': 1, 'seconds': 6}).startswith('learning the grains: 6 s of 1 min 30 s')
    assert _words(None, Budget(minutes=1), 'fit', 'fit', {'step': 1, 'seconds': 6}) == 'fit: 6 s of 1 min'


def test_a_job_stops_the_fit_loop_between_steps():
    "A background job's stop ends the loop after the current step, with a checkpoint and no warning."
    import time, warnings
    from latentplay.train import train_in_background
    saved = []
    def fit(data, checkpoint=None, resume=False, progress=True):
        return fit_loop(lambda i, p: time.sleep(0.01) or {'loss': 1.0}, Budget(max_steps=10_000),
                        checkpoint=lambda s: saved.append(s['step']), progress=progress)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        job = train_in_background(fit, None)
        while not job.history: time.sleep(0.01)
        job.stop()
    assert job.status == 'stopped' and job.result['interrupted'] and saved[-1] == job.result['step'] < 10_000
