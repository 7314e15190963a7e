"""A user's own folder of one-shots, end to end: real drum hits written as WAV files into class sub-folders, loaded
with `Corpus.from_folder`, 10% held out, a `GrainModel` trained for `--minutes` on the rest (CPU), then the held-out
hits resynthesized. Reports spectral distances against the two baselines and whether a classifier trained on the real
training hits recognises the class of each resynthesized held-out hit, and of `--per-class` hits generated per class
at the default temperature (with their variety against real hits', as in bench_grains_quality). Prints JSON.

The split. The drum set renders every drum at several velocities, and the folder keeps a sheet of each file's kit and
key beside it (a label CSV: file,label,kit,key,velocity), as a user's sample library often has. `--split grouped` (the
default) holds out whole drums (`split(group=('kit', 'key'))`): no other velocity of a held-out hit is in training.
`--split sound` draws file by file, as before: every held-out hit then has a louder or softer copy in training, and the
stored-grain baseline, which looks up the stored training grains nearest to each held-out grain and matches their
level, rebuilds it almost exactly (lsd 0.002): the figure measured the split, not the method.
`held_out_with_sibling_in_training` says how many held-out hits have such a copy. `--split both` trains one model and
scores it on the grouped held-out drums and on as many hits drawn file by file from the remaining drums (their other
velocities stay in training): `sibling_held_out`, the same model's figures with the flaw.

`classifier_on_generated_other_sampling` generates from the same model the other way `generate` can start a sound:
near kept training embeddings, or from each label's Gaussian (`fit` keeps embeddings by default for notes and long
sounds, not for hits), so the two ways of sampling compare on one model.

Usage: python bench/bench_user_folder.py [--minutes 10 | --steps N] [--files 250] [--threads 2] [--per-class 10] [--split grouped|sound|both]"""
import argparse, copy, json, sys, tempfile, time, warnings
from pathlib import Path
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from bench_grains_quality import Classifier, scores, spread
from latentplay.granular import loudness_matched_noise, _fit_embedding_statistics
from latentplay.corpus import Corpus
from latentplay.granular import GrainModel
from latentplay.catart import StoredGrains


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--minutes', type=float, default=10.0)
    ap.add_argument('--steps', type=int, default=None, help='a step budget instead of --minutes (comparable on a loaded machine)')
    ap.add_argument('--files', type=int, default=250)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--per-class', type=int, default=10)
    ap.add_argument('--split', choices=['grouped', 'sound', 'both'], default='grouped',
                    help="grouped: whole drums (kit and key) held out; sound: file by file, as before (siblings in training)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    src = Corpus.builtin('gm-drums', progress=False).filter(label=['kick', 'snare', 'hihat', 'tom', 'cymbal', 'clap'])
    pick = np.random.default_rng(0).choice(len(src), min(a.files, len(src)), replace=False)
    with tempfile.TemporaryDirectory() as top:
        d, sheet = Path(top) / 'drums', ['file,label,kit,key,velocity']
        for i in pick:
            s = src[int(i)]
            rel = f"{s.meta['label']}/{s.meta['label']}-{i}.wav"
            s.save(d / rel, overflow='clip')
            sheet.append(f"{rel},{s.meta['label']},{s.meta['kit']},{s.meta['key']},{s.meta['velocity']}")
        (Path(top) / 'labels.csv').write_text('\n'.join(sheet) + '\n')
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            c = Corpus.from_folder(d, sr=22050, labels=Path(top) / 'labels.csv', progress=False)
    group = None if a.split == 'sound' else ('kit', 'key')
    train, test = c.split(test=0.1, seed=0, group=group)
    sib = None
    if a.split == 'both': train, sib = train.split(test=len(test), seed=0)    # as many hits again, file by file from the other drums
    siblings = len(test.siblings_in(train, group=('kit', 'key')))
    t0 = time.time()
    m = GrainModel.fit(train, **({'max_steps': a.steps} if a.steps else {'minutes': a.minutes}), progress=False)
    fit_minutes = (time.time() - t0) / 60
    torch.set_num_threads(1)
    neural = [(s, m.resynthesize(s)) for s in test]
    sg = StoredGrains.fit(train, progress=False)
    clf = Classifier(c.sr).fit(train.sounds, train.labels, c.classes)
    rec = clf.predict([r for _, r in neural])
    gen = {l: m.generate(label=l, n=a.per_class, seed=0) for l in m.labels}
    per = {l: round(float(np.mean([p == l for p in clf.predict(g)])), 2) for l, g in gen.items()}
    other, kept = copy.deepcopy(m), bool(m.config().get('embed_points'))
    if kept: other._cfg['embed_points'] = 0                                      # each label's Gaussian alone
    else: _fit_embedding_statistics(other, train, keep=True)                     # near kept training embeddings
    per_o = {l: round(float(np.mean([p == l for p in clf.predict(other.generate(label=l, n=a.per_class, seed=0))])), 2) for l in m.labels}
    div = {l: round(spread(g, c.sr) / spread([s for s in train if s.meta.get('label') == l][:2 * a.per_class], c.sr), 2) for l, g in gen.items()}
    print(json.dumps({'benchmark': 'user-folder', 'split': a.split, 'files': len(c), 'classes': c.classes, 'held_out': len(test),
                      'held_out_with_sibling_in_training': siblings,
                      'train_minutes': round(fit_minutes, 1), 'threads_training': a.threads, 'steps': m.info['steps'],
                      'resynthesis_median': {'neural_granular': scores(neural),
                                             'stored_grains': scores([(s, sg.resynthesize(s)) for s in test]),
                                             'loudness_matched_noise': scores([(s, loudness_matched_noise(s, i)) for i, s in enumerate(test)])},
                      'classifier_on_real_held_out': round(float(np.mean([p == l for p, l in zip(clf.predict(test.sounds), test.labels)])), 3),
                      'classifier_on_resynthesized_held_out': round(float(np.mean([p == l for p, l in zip(rec, test.labels)])), 3),
                      'classifier_on_generated': {'sampling': 'kept_embeddings' if kept else 'label_gaussian',
                                                  'mean': round(float(np.mean(list(per.values()))), 3), 'min': min(per.values()), 'per_class': per},
                      'classifier_on_generated_other_sampling': {'sampling': 'label_gaussian' if kept else 'kept_embeddings',
                                                                 'mean': round(float(np.mean(list(per_o.values()))), 3), 'min': min(per_o.values()), 'per_class': per_o},
                      'generated_variety_vs_real': {'mean': round(float(np.mean(list(div.values()))), 2), 'per_class': div},
                      'grain_conditioning': m.grain_conditioning,
                      **({} if sib is None else {'sibling_held_out': {
                          'held_out': len(sib), 'with_sibling_in_training': len(sib.siblings_in(train, group=('kit', 'key'))),
                          'resynthesis_median': {'neural_granular': scores([(s, m.resynthesize(s)) for s in sib]),
                                                 'stored_grains': scores([(s, sg.resynthesize(s)) for s in sib]),
                                                 'loudness_matched_noise': scores([(s, loudness_matched_noise(s, i)) for i, s in enumerate(sib)])},
                          'classifier_on_real': round(float(np.mean([p == l for p, l in zip(clf.predict(sib.sounds), sib.labels)])), 3),
                          'classifier_on_resynthesized': round(float(np.mean([p == l for p, l in zip(clf.predict([m.resynthesize(s) for s in sib]), sib.labels)])), 3)}}),
                      'chance': round(1 / len(c.classes), 3)}))


if __name__ == '__main__': main()
