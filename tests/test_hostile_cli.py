"""Careless commands: numbers and devices out of range, outputs that would replace a model or an input, files where
folders belong (and the reverse), a full disk, a read-only place, a closed pipe, hostile model files, `--resume` with
nothing to resume, and a training killed (SIGKILL, then Ctrl-C) and resumed. Every command runs in a fresh Python under
tests/hostile.py's time limit and memory cap; a user error must be one line on stderr with exit status 2."""
import hashlib, json, os, shutil, signal, subprocess, sys, time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import hostile
from hostile import run_cli, user_error

SR = 22050


def _digest(path) -> str: return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _cli_to(stdout, *args) -> subprocess.CompletedProcess:
    "`run_cli` with the command's standard output sent to `stdout` (a file or a pipe's descriptor)."
    try: return subprocess.run([sys.executable, '-m', 'latentplay.cli', *map(str, args)], stdout=stdout, stderr=subprocess.PIPE,
                               text=True, timeout=hostile.TIMEOUT, preexec_fn=hostile._cap(hostile.MEM_GB))
    except subprocess.TimeoutExpired: raise AssertionError(f"`latentplay {' '.join(map(str, args))}` hung") from None


@pytest.fixture(scope='module')
def work(tmp_path_factory, gm_drums):
    "A folder with a few real drum hits (hits/kick, hits/snare), a silent folder, a sound file and the shipped drum model."
    d = tmp_path_factory.mktemp('cli')
    for label in ('kick', 'snare'):
        for i, s in enumerate(gm_drums.filter(label=label).sounds[:4]): s.save(d / 'hits' / label / f'{i}.wav')
    (d / 'quiet').mkdir()
    sf.write(str(d / 'quiet' / 'a.wav'), np.zeros(SR // 5, np.float32), SR)
    shutil.copy(d / 'hits' / 'snare' / '0.wav', d / 'in.wav')
    from latentplay.models import _pretrained_dir
    shutil.copy(_pretrained_dir() / 'gm-drums.lp', d / 'drums.lp')
    return d


def test_numbers_refused_when_read(work):
    "Sizes, budgets, counts and factors out of range are refused by the argument parser, naming the limit (16 checks)."
    w = work
    for args, words in [(('corpus', 'builtin:gm-drums', '--sr', 0), ('--sr', '1000', '384000')),
                        (('describe', w / 'in.wav', '--sr', -1), ('--sr', 'LIMITS')),
                        (('train', w / 'hits', '--minutes', -1, '--out', w / 'm.lp'), ('--minutes', 'above 0')),
                        (('train', w / 'hits', '--minutes', 'nan', '--out', w / 'm.lp'), ('--minutes',)),
                        (('train', w / 'hits', '--max-steps', 0, '--out', w / 'm.lp'), ('--max-steps', 'from 1')),
                        (('train', w / 'hits', '--checkpoint-every', -5, '--out', w / 'm.lp'), ('--checkpoint-every',)),
                        (('train', w / 'hits', '--seed', 10**30, '--out', w / 'm.lp'), ('--seed',)),
                        (('train', w / 'hits', '--model', 'notes', '--decoder', 'harmonic', '--out', w / 'm.lp'), ('--decoder', 'vq and grains models')),
                        (('train', w / 'hits', '--model', 'notes', '--joint', 0.2, '--out', w / 'm.lp'), ('--joint', 'grains')),
                        (('train', w / 'hits', '--joint', 0, '--out', w / 'm.lp'), ('--joint', 'above 0')),
                        (('train', w / 'hits', '--model', 'vq', '--decoder', 'sine', '--out', w / 'm.lp'), ('--decoder', 'harmonic')),
                        (('train', w / 'hits', '--model', 'vq', '--pitch-conditioning', '--out', w / 'm.lp'), ('--pitch-conditioning', 'grains')),
                        (('generate', w / 'drums.lp', '--n', 0, '--out', w / 'g.wav'), ('--n', '10000')),
                        (('generate', w / 'drums.lp', '--n', 10**9, '--out', w / 'g.wav'), ('--n', 'LIMITS')),
                        (('stretch', w / 'drums.lp', w / 'in.wav', w / 's.wav', '--factor', 0), ('--factor', 'above 0')),
                        (('stretch', w / 'drums.lp', w / 'in.wav', w / 's.wav', '--factor', 'inf'), ('--factor',)),
                        (('stretch', w / 'drums.lp', w / 'in.wav', w / 's.wav', '--factor', 'two'), ('--factor', 'number')),
                        (('stretch', w / 'drums.lp', w / 'in.wav', w / 's.wav', '--factor', '1e9'), ('stretched duration', '3600'))]:
        user_error(run_cli(*args), *words)
    assert not (w / 'm.lp').exists() and not (w / 'g.wav').exists() and not (w / 's.wav').exists()


def test_devices_refused(work):
    "A device this torch does not have, or no device at all, is refused before any data is loaded (3 checks)."
    import torch
    out = work / 'dev.lp'
    if not torch.cuda.is_available(): user_error(run_cli('train', work / 'hits', '--device', 'cuda', '--out', out), 'cuda', '--device cpu')
    user_error(run_cli('train', work / 'hits', '--device', 'cuda:99', '--out', out), 'cuda:99')
    user_error(run_cli('train', work / 'hits', '--device', 'bogus', '--out', out), "unknown device 'bogus'")
    assert not out.exists()


def test_force_keeps_the_old_model_until_a_new_one_exists(work):
    """`train --force` checks every argument and the data before touching the old model: a negative budget, a silent
    folder, a folder that is a file, a missing device, a missing folder leave it byte for byte; an --out that is not a
    model (an input sound) is never replaced, --force or not (8 checks)."""
    w = work
    old = w / 'old.lp'; shutil.copy(w / 'drums.lp', old); before = _digest(old)
    for args, words in [(('train', w / 'hits', '--force', '--minutes', -1), ('--minutes',)),
                        (('train', w / 'quiet', '--force', '--max-steps', 2), ('silent',)),
                        (('train', w / 'in.wav', '--force', '--max-steps', 2), ('not a folder',)),
                        (('train', w / 'no-such-folder', '--force', '--max-steps', 2), ('no-such-folder',)),
                        (('train', w / 'hits', '--force', '--resume', '--max-steps', 2), ('not both',)),
                        (('train', w / 'hits', '--force', '--device', 'bogus'), ('bogus',))]:
        user_error(run_cli(*args, '--out', old), *words)
        assert _digest(old) == before, args
    sound, audio = w / 'hits' / 'kick' / '0.wav', _digest(w / 'hits' / 'kick' / '0.wav')
    user_error(run_cli('train', w / 'hits', '--max-steps', 2, '--out', sound), 'exists')
    user_error(run_cli('train', w / 'hits', '--force', '--max-steps', 2, '--out', sound), 'not a latentplay model')
    assert _digest(sound) == audio


def test_outputs_never_replace_a_model_or_an_input(work, tmp_path):
    """Every command that writes refuses an output that is one of its inputs (another spelling, a symbolic link, a hard
    link) or a latentplay model under any name, or a pipe, before it computes anything; `generate --n` checks every
    numbered name first; `demo --out` refuses a file (11 checks)."""
    w, d = work, tmp_path
    model_wav = d / 'model.wav'; shutil.copy(w / 'drums.lp', model_wav)          # a model saved under another extension
    (d / 'hard.wav').hardlink_to(w / 'in.wav'); (d / 'soft.wav').symlink_to(w / 'in.wav')
    (d / 'take-2.wav').hardlink_to(w / 'drums.lp')
    os.mkfifo(d / 'pipe.wav')
    keep = {p: _digest(p) for p in (w / 'in.wav', w / 'drums.lp', model_wav)}
    for args, words in [(('generate', model_wav, '--out', model_wav), ('is the input',)),
                        (('generate', w / 'drums.lp', '--out', model_wav), ('latentplay model',)),
                        (('generate', w / 'drums.lp', '--n', 3, '--out', d / 'take.wav'), ('take-2.wav', 'is the input')),
                        (('resynth', w / 'drums.lp', w / 'in.wav', d / 'hard.wav'), ('is the input',)),
                        (('resynth', w / 'drums.lp', w / 'in.wav', d / 'soft.wav'), ('is the input',)),
                        (('resynth', w / 'drums.lp', w / 'in.wav', w / 'hits' / '..' / 'in.wav'), ('inputs are never overwritten',)),
                        (('resynth', w / 'drums.lp', w / 'in.wav', model_wav), ('latentplay model',)),
                        (('stretch', w / 'drums.lp', w / 'in.wav', w / 'drums.lp', '--factor', 2), ('is the input',)),
                        (('stretch', w / 'drums.lp', w / 'in.wav', d / 'pipe.wav', '--factor', 2), ('not a regular file',)),
                        (('resynth', w / 'drums.lp', w / 'in.wav', d), ('is a folder',)),
                        (('demo', '--out', model_wav), ('is a file',))]:
        user_error(run_cli(*args, timeout=60), *words)
    assert all(_digest(p) == h for p, h in keep.items()) and not (d / 'take-1.wav').exists()


def test_files_and_folders_mixed_up(work, tmp_path):
    "A file where a folder is expected and the reverse: one line naming the path (7 checks)."
    w = work
    for args, words in [(('corpus', w / 'in.wav'), ('not a folder',)),
                        (('describe', w / 'hits'), ('folder',)),
                        (('info', w / 'hits'), ('folder',)),
                        (('resynth', w / 'hits', w / 'in.wav', tmp_path / 'o.wav'), ('folder',)),
                        (('describe', w / 'no-such.wav'), ('no-such.wav',)),
                        (('generate', w / 'drums.lp', '--out', w / 'in.wav' / 'x.wav'), ('in.wav',)),
                        (('train', w / 'hits', '--max-steps', 1, '--out', w / 'hits'), ('is a folder',))]:
        user_error(run_cli(*args), *words)


def _mount(path, *opts) -> bool:
    "Mount a small tmpfs at `path` (root only); False where this machine does not allow it."
    path.mkdir()
    if os.geteuid() != 0 or not shutil.which('mount'): return False
    return subprocess.run(['mount', '-t', 'tmpfs', '-o', ','.join(opts), 'tmpfs', str(path)], capture_output=True).returncode == 0


def test_full_disk_and_places_that_cannot_be_written(work, tmp_path):
    """Standard output on a full disk (/dev/full), a model written to a full tmpfs, a read-only or forbidden folder:
    one line that says what is wrong, exit status 2, nothing half-written (3 checks on root)."""
    w = work
    with open('/dev/full', 'w') as full:
        user_error(_cli_to(full, 'describe', w / 'in.wav'), 'no space', 'standard output')
    small, ro = tmp_path / 'small', tmp_path / 'ro'
    if _mount(small, 'size=4k'):
        try:
            user_error(run_cli('train', w / 'hits', '--model', 'stored-grains', '--out', small / 'm.lp'), 'no space', 'm.lp')
            assert not list(small.iterdir())
        finally: subprocess.run(['umount', str(small)])
    if _mount(ro, 'size=64k', 'ro'):
        try: user_error(run_cli('resynth', w / 'drums.lp', w / 'in.wav', ro / 'o.wav'), 'read-only')
        finally: subprocess.run(['umount', str(ro)])
    elif os.geteuid() != 0:
        ro.chmod(0o500)
        user_error(run_cli('resynth', w / 'drums.lp', w / 'in.wav', ro / 'o.wav'), 'permission denied')


def test_sound_on_a_full_disk(work, tmp_path):
    "A sound written to a full disk: one line naming the file, nothing half-written (1 check, root only)."
    small = tmp_path / 'small'
    if not _mount(small, 'size=4k'): pytest.skip("mounting a tmpfs needs root")
    try:
        user_error(run_cli('resynth', work / 'drums.lp', work / 'in.wav', small / 'o.wav'), 'no space', 'o.wav')
        assert not list(small.iterdir())
    finally: subprocess.run(['umount', str(small)])


def _closed_pipe(*args):
    "Run `latentplay ARGS` with its standard output a pipe nobody reads (`| head -0`)."
    r, wfd = os.pipe(); os.close(r)
    try: return _cli_to(wfd, *args)
    finally: os.close(wfd)


def test_closed_pipe_ends_quietly(work):
    "A reader that went away (`latentplay describe x.wav | head -0`): no traceback, no message, a non-zero status (3 checks)."
    for args in (('describe', work / 'in.wav'), ('info', work / 'drums.lp'), ('--help',)):
        r = _closed_pipe(*args)
        assert r.stderr == '' and r.returncode in (0, 141), (args, r.returncode, r.stderr[-2000:])


def _checkpoint(path, meta, tensors=None):
    from safetensors.numpy import save_file
    save_file(tensors or {'x': np.zeros(2, np.float32)}, str(path), metadata={'latentplay': meta if isinstance(meta, str) else json.dumps(meta)})
    return path


def test_hostile_model_files(work, tmp_path):
    """Model files whose header is a list, has no config, has config keys no model takes, is nested 100,000 deep, or
    is not a model at all: every command that reads a model prints one line (10 checks)."""
    d = tmp_path
    files = [_checkpoint(d / 'list.lp', '[1, 2, 3]'),
             _checkpoint(d / 'noconfig.lp', {'kind': 'grains', 'format': 1}),
             _checkpoint(d / 'keys.lp', {'kind': 'grains', 'format': 1, 'config': {'sr': SR, 'evil': 1}}),
             _checkpoint(d / 'deep.lp', '{"kind": "grains", "config": ' + '[' * 100_000 + ']' * 100_000 + '}'),
             work / 'in.wav']
    for f in files: user_error(run_cli('generate', f, '--out', d / 'o.wav'))
    for f in files[0], files[3]: user_error(run_cli('info', f))
    for f in files[2:4]: user_error(run_cli('resynth', f, work / 'in.wav', d / 'o.wav'))
    user_error(run_cli('train', work / 'hits', '--resume', '--out', files[1]))
    assert not (d / 'o.wav').exists()


def test_resume_with_nothing_to_resume(work, tmp_path):
    "`--resume` with no file, a finished model, a sound, or a model kind that cannot resume: said plainly (4 checks)."
    w = work
    user_error(run_cli('train', w / 'hits', '--resume', '--out', tmp_path / 'none.lp'), 'nothing to resume', 'checkpoint')
    user_error(run_cli('train', w / 'hits', '--resume', '--out', w / 'drums.lp'), 'nothing to resume', 'finished model')
    user_error(run_cli('train', w / 'hits', '--resume', '--out', w / 'in.wav'), 'not a latentplay model')
    user_error(run_cli('train', w / 'hits', '--resume', '--model', 'stored-grains', '--out', w / 'drums.lp'), 'grains')


def _step(path) -> int:
    "The step of the interrupted run saved at `path` (-1: none yet)."
    from latentplay.train import checkpoint_info
    try: return checkpoint_info(path)['training']['state']['step']
    except Exception: return -1


def _train_until(args, path, past:int, sig, timeout=90):
    """Start `latentplay train ARGS`, send `sig` once `path` holds a checkpoint past step `past`; return the process,
    its stderr and every step seen in `path` while it ran."""
    p = subprocess.Popen([sys.executable, '-m', 'latentplay.cli', 'train', *map(str, args)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, preexec_fn=hostile._cap(hostile.MEM_GB, ctrl_c=True))
    t0, seen = time.monotonic(), [_step(path)]
    while seen[-1] <= past and p.poll() is None and time.monotonic() - t0 < timeout:
        time.sleep(0.02); seen.append(_step(path))
    p.send_signal(sig)
    try: _, err = p.communicate(timeout=60)
    except subprocess.TimeoutExpired: p.kill(); raise AssertionError(f"`latentplay train` did not stop after {sig!r}")
    assert seen[-1] > past, f"no checkpoint past step {past} in {timeout} s; stderr:\n{err[-2000:]}"
    return p, err, seen


def test_kill_and_resume(work, tmp_path):
    """A training killed with SIGKILL after its first checkpoints (`--checkpoint-every 1`) continues from the saved step
    with `--resume` (never from step 0); Ctrl-C on the resumed run exits 130 with one line that says how to continue;
    the last `--resume` finishes the model (7 checks)."""
    out, hits = tmp_path / 'run.lp', work / 'hits'
    p, _, seen = _train_until([hits, '--max-steps', 200, '--checkpoint-every', 1, '--out', out], out, 1, signal.SIGKILL)
    k1 = _step(out)
    assert p.returncode == -signal.SIGKILL and k1 >= 2
    p, err, seen = _train_until([hits, '--max-steps', 200, '--checkpoint-every', 0, '--resume', '--out', out], out, k1, signal.SIGINT)
    new = [s for s in seen if s != k1]                   # checkpoints at every step: a restart would show step 1 < k1
    assert new and min(new) > k1, f"the resumed run started again below step {k1}: {new}"
    lines = [l for l in err.splitlines() if l.startswith('latentplay train:')]
    assert p.returncode == 130 and len(lines) == 1 and '--resume' in lines[0] and 'Traceback' not in err, err[-2000:]
    k2 = _step(out)                                      # Ctrl-C writes one last checkpoint
    assert k2 > k1
    total = -(-4 * (k2 + 1) // 3)                        # a budget whose grain stage ends a step past the saved one
    r = run_cli('train', hits, '--max-steps', total, '--resume', '--out', out, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    steps = json.loads(r.stdout.strip().splitlines()[-1])['steps']
    assert steps['grains'] == round(total * 0.75) and steps['sequence'] >= 1, (k2, total, steps)
    assert _step(out) == -1                              # a finished model: nothing left to resume
