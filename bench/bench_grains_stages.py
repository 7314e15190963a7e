"""Does the paper's third training stage help here? `GrainModel.fit` with two stages (grains, then sequences) against
three (grains, sequences, then both levels fine-tuned together on rendered sequences), side by side at the same total
step budget, on the held-out 10% of each built-in corpus (`split(test=0.1, seed=0, group='auto')`, see --split below):

- resynthesis: median `lsd` of held-out sounds rebuilt grain by grain (`resynthesize`);
- sequence level: median `lsd` of each held-out sound's first `seq_seconds` against the same sound taken through the
  temporal level (sound -> `embed` -> sequence decoder -> grains -> audio), and how often the classifier of
  `bench_grains_quality.py` recognises those reconstructions;
- generation: that classifier on `generate(label, temperature=0.7)` per class (mean, min).
Also the training seconds of each run (a joint step renders whole sequences: it costs more than a grain step).

Usage: python bench/bench_grains_stages.py [--only gm-drums gm-textures] [--steps 600] [--two 0.75 0.25] [--three 0.6 0.2 0.2]
       [--per-class 5] [--threads 1] [--init MODEL.lp --lr 5e-4] [--split grouped|sound]. Prints one JSON line per corpus.
With --init both runs start from a trained model (fine-tuning): e.g. `--init m.lp --steps 200 --two 0.05 0.95 --three 0.05 0.45 0.5`
asks whether the last half of the budget is better spent on the sequence level alone or on both levels together.

The split (`--split`): `grouped` (the default) holds out whole sounds with all their siblings
(`split(test=0.1, seed=0, group='auto')`: for gm-drums every velocity of one kit's drum, for gm-notes every velocity of
one instrument's pitch, `latentplay.corpus.SIBLINGS`); `sound` draws sound by sound as before, which leaves another
velocity of every held-out sound in training (figures then measure generalisation to another velocity).
With --init, the model should have been trained on the same split's training part (a shipped model was trained on the
`sound` split: on a grouped test set it has heard most held-out sounds, `held_out_heard_by_init` counts them)."""
import argparse, json, sys, time
from pathlib import Path
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_grains_quality import Classifier                       # the same classifier as the generation benchmark
from latentplay.corpus import Corpus
from latentplay.granular import GrainModel
from latentplay.models import load_model
from latentplay.dsp import lsd
from latentplay.sound import Sound


@torch.no_grad()
def through_sequence(m, s):
    "A sound's first `seq_seconds` taken through the temporal level: embedding -> decoded latents -> audio."
    w = m.condition_vector(s.meta.get('label') if s.meta.get('label') in m.labels else None)
    z = m.sequence.decode(m.embed(s)[None], w[None] if len(w) else None, m.seq_grains)[0]
    return m._decode_w(z, w)


def measure(m, clf, test, per_class):
    L = (m.seq_grains - 1) * m.hop_length
    head = lambda s: Sound(np.pad(s.audio[:L], (0, max(0, L - len(s.audio)))), s.sr)
    seq = [through_sequence(m, s) for s in test.sounds]
    out = {'resynthesis_lsd': round(float(np.median([float(lsd(s, m.resynthesize(s))) for s in test.sounds])), 3),
           'sequence_lsd': round(float(np.median([float(lsd(head(s), head(r))) for s, r in zip(test.sounds, seq)])), 3),
           'sequence_recognised': round(float(np.mean([p == l for p, l in zip(clf.predict(seq), test.labels)])), 3)}
    per = {lab: float(np.mean([p == lab for p in clf.predict(m.generate(label=lab, n=per_class, seed=0))])) for lab in m.labels}
    out['generated_recognised'] = {'mean': round(float(np.mean(list(per.values()))), 3), 'min': round(min(per.values()), 2),
                                   'per_class': {k: round(v, 2) for k, v in per.items()}}
    return out


def run(name, steps, two, three, per_class, init=None, lr=1e-3, split='grouped'):
    c = Corpus.builtin(name, sr=22050, progress=False)
    train, test = c.split(test=0.1, seed=0, group='auto' if split == 'grouped' else None)
    clf = Classifier(c.sr).fit(train.sounds, train.labels, sorted(set(train.labels)))
    out = {'benchmark': 'grains-stages', 'corpus': name, 'split': split, 'steps': steps, 'held_out_sounds': len(test),
           'held_out_with_sibling_in_training': len(test.siblings_in(train)), 'per_class_n': per_class, 'init': init, 'lr': lr}
    if init: out['held_out_heard_by_init'] = len(test.siblings_in(c.split(test=0.1, seed=0)[0], group=lambda m: tuple(sorted(m.items()))))
    start = load_model(init) if init else None
    if start is not None: out['init_model'] = measure(start.eval(), clf, test, per_class)
    for key, stages in (('two_stages', tuple(two)), ('three_stages', tuple(three))):
        torch.manual_seed(0)
        t0 = time.perf_counter()
        m = GrainModel.fit(train, max_steps=steps, stages=stages, seed=0, progress=False, validate_every=1e9, init=start, lr=lr)
        secs = time.perf_counter() - t0
        out[key] = {'stages': list(stages), 'steps': m.info['steps'], 'train_seconds': round(secs, 1), **measure(m.eval(), clf, test, per_class)}
    a, b = out['two_stages'], out['three_stages']
    out['three_minus_two'] = {'resynthesis_lsd': round(b['resynthesis_lsd'] - a['resynthesis_lsd'], 3),
                              'sequence_lsd': round(b['sequence_lsd'] - a['sequence_lsd'], 3),
                              'sequence_recognised': round(b['sequence_recognised'] - a['sequence_recognised'], 3),
                              'generated_recognised': round(b['generated_recognised']['mean'] - a['generated_recognised']['mean'], 3)}
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--only', nargs='*', default=['gm-drums', 'gm-textures'])
    ap.add_argument('--steps', type=int, default=600, help='total steps of every run (all its stages together)')
    ap.add_argument('--two', type=float, nargs=2, default=[0.75, 0.25], help='shares of the two-stage run')
    ap.add_argument('--init', default=None, help='a trained model file both runs start from (fine-tuning)')
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--three', type=float, nargs=3, default=[0.6, 0.2, 0.2], help='shares of the three-stage run')
    ap.add_argument('--per-class', type=int, default=5)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--split', choices=['grouped', 'sound'], default='grouped', help="grouped: siblings held out together; sound: the old split")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    for name in a.only: print(json.dumps(run(name, a.steps, a.two, a.three, a.per_class, a.init, a.lr, a.split)), flush=True)


if __name__ == '__main__': main()
