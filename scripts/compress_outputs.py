"""Re-encode the WAV players stored in notebook outputs in the players' compressed format (`latentplay.sound.audio_bytes`).

Every `data:audio/wav;base64,...` (also audio/x-wav, audio/wave, audio/vnd.wave) found in a code cell's outputs
(html players, widget snapshots, IPython's Audio) is decoded with soundfile and written again at the same sample
rate and level, as the same library function does for a new player; a `type="audio/wav"` right after it follows.
Sources, other outputs and every other byte of the file stay as they are; the result is checked with
nbformat.validate before it is written (atomically). Running it twice changes nothing the second time.
Usage: python scripts/compress_outputs.py [NOTEBOOK ...] [--format ogg|flac] [--dry-run | --check]
  (default: nbs/**/*.ipynb; --dry-run: measure, write nothing; --check: the same, exit 1 if anything would change)
Prints JSON: bytes before and after, per notebook and in total."""
import argparse, base64, binascii, io, json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WAV = r'audio/(?:x-|vnd\.)?wave?'
PLAYER = re.compile(r'data:' + WAV + r';base64,(?P<b64>[A-Za-z0-9+/]+={0,2})(?P<tail>\\?"\s*type=\\?")?(?P<type>' + WAV + ')?')

def _text(v): return ''.join(v) if isinstance(v, list) else v

def output_payloads(nb:dict) -> set:
    "The base64 WAV payloads that stand in the outputs of code cells (never in sources)."
    found = set()
    for c in nb.get('cells', []):
        for o in c.get('outputs', []) if c.get('cell_type') == 'code' else []:
            for v in o.get('data', {}).values():
                if isinstance(v, (str, list)): found |= {m['b64'] for m in PLAYER.finditer(_text(v))}
    return found

def reencode(b64:str, format:str):
    "(new base64, MIME) for a base64 WAV, or None when it is not a readable WAV."
    import soundfile as sf
    from latentplay.sound import audio_bytes
    try:
        with sf.SoundFile(io.BytesIO(base64.b64decode(b64, validate=True))) as f:
            if f.format not in ('WAV', 'WAVEX', 'RF64'): return None
            audio, sr = f.read(dtype='float32'), f.samplerate
    except (binascii.Error, ValueError, RuntimeError, sf.SoundFileError): return None
    data, mime = audio_bytes(audio, sr, format, normalize=False)   # the level the page had
    return base64.b64encode(data).decode(), mime

def compress(text:str, format:str) -> str:
    "`text` (a notebook file) with its stored WAV players re-encoded; everything else byte for byte."
    allowed, done = output_payloads(json.loads(text)), {}
    def sub(m):
        if m['b64'] not in allowed: return m[0]
        if m['b64'] not in done: done[m['b64']] = reencode(m['b64'], format)
        if done[m['b64']] is None: return m[0]
        b64, mime = done[m['b64']]
        return f"data:{mime};base64,{b64}" + (m['tail'] or '') + (mime if m['type'] else '')
    return PLAYER.sub(sub, text)

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('notebooks', nargs='*', type=Path)
    ap.add_argument('--format', default=None, help='a key of latentplay.sound.AUDIO_FORMATS (default: PLAYER_FORMAT)')
    ap.add_argument('--dry-run', action='store_true', help='measure only; write nothing')
    ap.add_argument('--check', action='store_true', help='measure only; exit 1 if a notebook would change')
    args = ap.parse_args(argv)
    from latentplay.sound import PLAYER_FORMAT, atomic_write
    fmt, write = args.format or PLAYER_FORMAT, not (args.dry_run or args.check)
    paths = args.notebooks or sorted(p for p in (ROOT / 'nbs').rglob('*.ipynb') if '.ipynb_checkpoints' not in p.parts)
    report, changed = {}, []
    for p in paths:
        old = p.read_bytes()
        new = compress(old.decode('utf-8'), fmt).encode('utf-8')
        report[str(p.resolve().relative_to(ROOT) if p.resolve().is_relative_to(ROOT) else p)] = dict(before=len(old), after=len(new))
        if new == old: continue
        changed.append(str(p))
        import nbformat                                    # slow to import: only when a notebook changes
        nbformat.validate(nbformat.reads(new.decode('utf-8'), as_version=4))
        if write:
            with atomic_write(p) as f: f.write(new)
    total = dict(before=sum(r['before'] for r in report.values()), after=sum(r['after'] for r in report.values()))
    print(json.dumps(dict(format=fmt, written=write, changed=len(changed), notebooks=report, total=total), indent=1))
    return 1 if args.check and changed else 0

if __name__ == '__main__': sys.exit(main())
