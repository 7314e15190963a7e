"""Hostile files handed to `load` and `Corpus.from_folder`: special files named like sounds (FIFO, devices, socket,
dangling and looping symlinks, a folder), sizes taken from a header or an argument, valid files that look odd (a
non-UTF-8 name, a streaming writer's 0xFFFFFFFF sizes, a Windows-1252 label CSV) and unreadable files. Every case
runs in a fresh Python under tests/hostile.py's time limit and memory cap, so a hang or a blow-up fails one test."""
import hashlib, os, socket, stat, struct, subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from hostile import REFUSE, refused, run_py

TIMEOUT = 60          # a case imports latentplay and reads a few small files: seconds, unless something hangs
SR = 22050
NONUTF8 = b'caf\xe9 \xff.wav'   # a file name that is not UTF-8 (Latin-1 bytes), as old tools and zip files leave them


def _wav(path, n=2205, sr=SR, **kw):
    t = np.arange(n) / sr
    sf.write(str(path), (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), sr, **kw)
    return path


def _header_wav(path, frames, sr, width=1):
    "A PCM WAV whose header declares `frames` frames; the data is a sparse hole (no disk used, nothing to read first)."
    data = frames * width
    head = b'RIFF' + struct.pack('<I', 36 + data) + b'WAVEfmt ' + struct.pack('<IHHIIHH', 16, 1, 1, sr, sr * width, width, 8 * width)
    with open(path, 'wb') as f: f.write(head + b'data' + struct.pack('<I', data)); f.truncate(44 + data)
    return path


@pytest.fixture(scope='module')
def hostile(tmp_path_factory):
    "A user's folder of hostile files (kick/ holds the good ones; special/, sizes/ and odd/ the rest) and its snapshot."
    root = tmp_path_factory.mktemp('hostile') / 'user'
    kick, special, sizes = root / 'kick', root / 'special', root / 'sizes'
    for d in (kick, special, sizes): d.mkdir(parents=True)
    _wav(kick / 'k0.wav'); _wav(kick / 'k1.flac', format='FLAC')
    raw = bytearray(_wav(kick / 'plain.wav').read_bytes()); raw[4:8] = raw[40:44] = b'\xff' * 4
    (kick / 'stream.wav').write_bytes(raw)                                   # a streaming writer's "size unknown"
    with open(os.fsencode(kick) + b'/' + NONUTF8, 'wb') as f: f.write((kick / 'plain.wav').read_bytes())
    os.mkfifo(special / 'fifo.wav'); os.mkfifo(special / 'labels_fifo.csv')
    os.symlink('/dev/zero', special / 'zero.wav'); os.symlink('/dev/null', special / 'null.flac')
    os.symlink(special / 'gone.wav', special / 'dangling.wav'); os.symlink('self.wav', special / 'self.wav')
    (special / 'dir.wav').mkdir()
    s = socket.socket(socket.AF_UNIX); s.bind(str(special / 'sock.wav')); s.close()
    os.symlink(root, special / 'loop'); os.symlink(kick, root / 'linked_kick')   # a loop, and a second way to kick/
    elsewhere = tmp_path_factory.mktemp('elsewhere'); _wav(elsewhere / 's0.wav', n=3000)
    os.symlink(elsewhere, root / 'snare')                                     # a linked folder that lives elsewhere
    (sizes / 'empty.wav').touch()
    good = (kick / 'k0.wav').read_bytes(); (sizes / 'cut.wav').write_bytes(good[:len(good) // 3])
    b = bytearray(good); b[40:44] = struct.pack('<I', 2**31); (sizes / 'huge_decl.wav').write_bytes(b)   # 2 GB declared
    _wav(sizes / 'one_hz.wav', n=50, sr=1)                                   # 50 s at 1 Hz: 1.1 M samples at 22.05 kHz
    _wav(sizes / 'slow.wav', n=4000, sr=1)                                   # 4000 s at 1 Hz: over LIMITS['seconds']
    _header_wav(sizes / 'long.wav', frames=8000 * 3700, sr=8000)             # 3700 s, a sparse 30 MB
    ch = root / 'csv'; ch.mkdir()
    for name, enc in [('cp1252', 'cp1252'), ('bom', 'utf-8-sig'), ('utf16', 'utf-16')]:
        (ch / f'{name}.csv').write_bytes(f'file,label\r\nkick/k0.wav,caisse claire \u2013 {name} \u00e9\r\n'.encode(enc))
    return root


def snapshot(root) -> dict:
    "Every entry under `root`, links not followed and special files never opened: type, mode, size, mtime, content hash."
    out = {}
    for dirpath, dirnames, filenames in os.walk(os.fsencode(root)):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name); st = os.lstat(p)
            h = (hashlib.sha256(open(p, 'rb').read()).hexdigest() if stat.S_ISREG(st.st_mode)
                 else os.readlink(p) if stat.S_ISLNK(st.st_mode) else None)
            out[p] = (st.st_mode, st.st_size if stat.S_ISREG(st.st_mode) else 0, st.st_mtime_ns, h)
    return out


def cases(r: subprocess.CompletedProcess) -> dict:
    "Split a run's output at `CASE name` lines: {name: a CompletedProcess with that case's output}, for `refused`."
    assert r.returncode == 0, f"exit status {r.returncode}; stderr:\n{r.stderr[-3000:]}"
    out, name = {}, None
    for line in r.stdout.splitlines():
        if line.startswith('CASE '): name = line[5:]; out[name] = []
        elif name: out[name].append(line)
    return {k: subprocess.CompletedProcess(r.args, 0, '\n'.join(v), r.stderr) for k, v in out.items()}


def ok(r) -> str:
    line = next((l for l in r.stdout.splitlines() if l.startswith(('OK ', 'REFUSED '))), '')
    assert line.startswith('OK '), f"expected the case to succeed: {line or r.stdout}"
    return line[3:]


def run_cases(root, body, timeout=TIMEOUT):
    "Run `body` (which calls `case(name, fn)`) in a fresh Python under the caps, in the folder `root`."
    pre = REFUSE + '''
import os, sys, warnings
warnings.simplefilter('ignore')
from pathlib import Path
import numpy as np
import latentplay as lp
from latentplay.sound import load, file_sha256, resample, Sound
from latentplay.corpus import Corpus
def case(name, fn): print('CASE ' + name, flush=True); return refuse(fn)
'''
    return cases(run_py(pre + body, timeout=timeout, cwd=root))


def test_special_files_never_hang_or_read(hostile):
    "Every special file named like audio, through `load`, `file_sha256` and a label CSV: refused at once, saying what it is."
    before = snapshot(hostile)
    c = run_cases(hostile, '''
for n in ['fifo.wav', 'zero.wav', 'null.flac', 'sock.wav', 'dangling.wav', 'self.wav', 'dir.wav']:
    case('load ' + n, lambda: load('special/' + n))
    case('sha ' + n, lambda: file_sha256('special/' + n))
case('csv fifo', lambda: Corpus.from_folder('kick', labels='special/labels_fifo.csv'))
''')
    kinds = {'fifo.wav': 'a FIFO', 'zero.wav': 'a character device', 'null.flac': 'a character device', 'sock.wav': 'a socket',
             'self.wav': 'a symlink loop'}
    for n, kind in kinds.items():
        refused(c['load ' + n], 'not a regular file', kind, exc='AudioLoadError')
        refused(c['sha ' + n], 'not a regular file', kind)
    for what in ('load', 'sha'): refused(c[f'{what} dangling.wav'], 'symlink to', 'does not exist', exc='FileNotFoundError')
    refused(c['load dir.wav'], 'is a folder', 'Corpus.from_folder', exc='IsADirectoryError')
    refused(c['sha dir.wav'], 'is a folder', exc='IsADirectoryError')
    refused(c['csv fifo'], 'not a regular file', 'a FIFO')
    assert snapshot(hostile) == before, "the user's folder was modified"


def test_corpus_of_hostile_folder(hostile):
    """`Corpus.from_folder` on the whole hostile folder: ends, loads every good file (a linked folder once, the non-UTF-8
    name, the 0xFFFFFFFF sizes), lists every other candidate in `skipped` with its reason, and modifies nothing."""
    before = snapshot(hostile)
    c = run_cases(hostile, '''
def go():
    c = Corpus.from_folder('.', sr=22050)
    print('FILES', *sorted(s.meta['file'].encode('utf-8', 'surrogateescape').hex() for s in c))
    for p, why in c.skipped: print('SKIP', os.path.relpath(p).encode('utf-8', 'surrogateescape').hex(), why)
    return len(c)
case('corpus', go)
''', timeout=90)
    out = c['corpus'].stdout
    assert ok(c['corpus'])
    files = {bytes.fromhex(h).decode('utf-8', 'surrogateescape') for h in next(l for l in out.splitlines() if l.startswith('FILES')).split()[1:]}
    skip = {bytes.fromhex(l.split(' ', 2)[1]).decode('utf-8', 'surrogateescape'): l.split(' ', 2)[2] for l in out.splitlines() if l.startswith('SKIP ')}
    nonutf8 = 'kick/' + os.fsdecode(NONUTF8)
    assert {'kick/k0.wav', 'kick/k1.flac', 'kick/stream.wav', 'kick/plain.wav', nonutf8, 'snare/s0.wav', 'sizes/one_hz.wav'} <= files, files
    assert not any(f.startswith(('linked_kick/', 'special/')) for f in files), files        # kick/ is loaded once
    expect = {'special/fifo.wav': 'a FIFO', 'special/zero.wav': 'character device', 'special/null.flac': 'character device',
              'special/sock.wav': 'a socket', 'special/dangling.wav': 'dangling symlink', 'special/self.wav': 'symlink loop',
              'special/loop': 'symlink loop', 'linked_kick': 'same folder as kick', 'sizes/empty.wav': 'empty',
              'sizes/cut.wav': 'truncated', 'sizes/huge_decl.wav': 'truncated', 'sizes/slow.wav': "LIMITS['seconds']",
              'sizes/long.wav': "LIMITS['seconds']"}
    for f, why in expect.items(): assert f in skip and why.lower() in skip[f].lower(), (f, skip.get(f), skip)
    assert snapshot(hostile) == before, "the user's folder was modified"


def test_sizes_from_arguments_and_headers(hostile):
    "Every sample rate and length a call or a header asks for: refused up front, naming the limit; bounded when allowed."
    c = run_cases(hostile, '''
for sr in (0, -1, 10**9, 22050.5, float('nan'), True):
    case(f'load sr={sr!r}', lambda: load('kick/k0.wav', sr=sr))
    case(f'folder sr={sr!r}', lambda: Corpus.from_folder('kick', sr=sr))
    case(f'sound sr={sr!r}', lambda: Sound(np.zeros(10), sr))
case('builtin sr=0', lambda: Corpus.builtin('gm-drums', sr=0, progress=False))
case('one_hz', lambda: len(load('sizes/one_hz.wav', sr=22050)))
case('slow', lambda: load('sizes/slow.wav', sr=22050))
case('slow part', lambda: len(load('sizes/slow.wav', sr=1000, duration=10)))
case('slow keep', lambda: load('sizes/slow.wav', duration=10))
case('long', lambda: load('sizes/long.wav'))
case('long part', lambda: len(load('sizes/long.wav', offset=3600, duration=1)))
case('huge_decl', lambda: load('sizes/huge_decl.wav'))
case('duration', lambda: load('kick/k0.wav', duration=-1))
case('offset', lambda: load('kick/k0.wav', offset=float('nan')))
case('resample', lambda: resample(np.zeros(5000, np.float32), 1, 10**6))
k = Corpus.from_folder('kick')
case('grains', lambda: k.grains(frame_length=10**9))
case('grains hop', lambda: Corpus([Sound(np.zeros(22050 * 60), 22050)], 22050).grains(frame_length=4096, hop_length=1))
case('segments', lambda: k.segments(seconds=1e9, pad=True))
case('segments pad', lambda: k.segments(seconds=3000, pad=True))
case('min_seconds', lambda: Corpus.from_folder('kick', min_seconds=float('nan')))
s = load('kick/k0.wav')
case('sound resample', lambda: s.resample(10**9))
case('sound pad', lambda: s.pad(1e12))
case('mix', lambda: lp.mix([s, s], starts=[0, 1e12]))
case('trim', lambda: len(s.trim(frame=1e9)))
case('audio_bytes', lambda: lp.audio_bytes(s.audio, 0))
''', timeout=90)
    for sr in ('0', '-1', '1000000000', '22050.5', 'nan', 'True'):
        for what in ('load', 'folder'): refused(c[f'{what} sr={sr}'], 'sr must be', "LIMITS")
    for sr in ('1000000000', '22050.5'): refused(c[f'sound sr={sr}'], 'sr must be', 'LIMITS')
    for sr in ('0', '-1', 'nan'): refused(c[f'sound sr={sr}'], 'sample rate', 'positive')
    refused(c['sound sr=True'], 'sr must be')
    refused(c['builtin sr=0'], 'sr must be', 'LIMITS')
    assert int(ok(c['one_hz'])) == 50 * 22050
    refused(c['slow'], "LIMITS['seconds']", 'offset=', exc='AudioLoadError')
    assert int(ok(c['slow part'])) == 10_000
    refused(c['slow keep'], '1 Hz', 'pass sr=', exc='AudioLoadError')
    refused(c['long'], "LIMITS['seconds']", '3700 s', exc='AudioLoadError')
    assert int(ok(c['long part'])) == 8000
    refused(c['huge_decl'], 'truncated', exc='AudioLoadError')
    refused(c['duration'], 'duration must be'); refused(c['offset'], 'offset must be')
    refused(c['resample'], "LIMITS['seconds']")
    refused(c['grains'], 'frame_length must be', 'LIMITS')
    for k in ('grains hop', 'segments pad'): refused(c[k], "LIMITS['seconds']", 'times the corpus')
    refused(c['segments'], 'seconds must be', 'LIMITS')
    refused(c['min_seconds'], 'min_seconds must be')
    refused(c['sound resample'], 'sr must be', 'LIMITS'); refused(c['audio_bytes'], 'sr must be', 'LIMITS')
    refused(c['sound pad'], 'duration must be', 'LIMITS'); refused(c['mix'], 'mix length must be', 'LIMITS')
    assert int(ok(c['trim'])) == 2205


def test_valid_odd_files_load(hostile):
    "Valid inputs that look odd: a non-UTF-8 file name, 0xFFFFFFFF RIFF/data sizes, label CSVs in cp1252, UTF-8 with BOM, UTF-16."
    c = run_cases(hostile, f'''
name = os.fsdecode(b'kick/' + {NONUTF8!r})
case('nonutf8', lambda: float(np.abs(load(name).audio - load('kick/plain.wav').audio).max()))
case('stream', lambda: float(np.abs(load('kick/stream.wav', sr=16000).audio - load('kick/plain.wav', sr=16000).audio).max()))
for enc in ('cp1252', 'bom', 'utf16'):
    case('csv ' + enc, lambda: Corpus.from_folder('.', labels=f'csv/{{enc}}.csv').labels)
''')
    assert float(ok(c['nonutf8'])) == 0 and float(ok(c['stream'])) == 0
    for enc in ('cp1252', 'bom', 'utf16'): assert ok(c['csv ' + enc]) == repr([f'caisse claire \u2013 {enc} \u00e9'])


def test_unreadable_file_says_permission(hostile, tmp_path):
    "A file the user may not read: 'permission denied', not 'corrupt' (as root, where chmod blocks nothing, os.open is made to refuse)."
    p = _wav(tmp_path / 'locked.wav'); (tmp_path / 'd').mkdir(); _wav(tmp_path / 'd' / 'ok.wav'); os.link(p, tmp_path / 'd' / 'locked.wav')
    os.chmod(p, 0)
    fake = '' if os.geteuid() else '''
_open = os.open
def _refuse(path, *a, **kw):
    if str(path).endswith('locked.wav'): raise PermissionError(13, 'Permission denied', str(path))
    return _open(path, *a, **kw)
os.open = _refuse
'''
    try:
        c = run_cases(tmp_path, fake + '''
case('load', lambda: load('locked.wav'))
def go():
    c = Corpus.from_folder('d')
    return [(os.path.basename(p), why) for p, why in c.skipped]
case('corpus', go)
''')
    finally: os.chmod(p, 0o644)
    msg = refused(c['load'], 'cannot read', 'permission denied', exc='PermissionError')
    assert 'corrupt' not in msg
    assert 'permission denied' in ok(c['corpus']) and 'locked.wav' in ok(c['corpus'])
