"""Quality of the neural granular synthesizer on held-out sounds of each built-in corpus, against two baselines
measured in the same run: loudness-matched white noise and the stored-grain (CataRT-style) granular synthesizer
fitted on the same training sounds (all sounding grains up to 20,000, and only as many grains as the neural model
has parameters, i.e. the same storage). For reference it also reports the ceiling of any noise-filtering decoder:
each held-out grain's exact magnitude spectrum imposed on white noise (the phase is what noise cannot follow). Also: how well a classifier trained on real sounds recognises the class of
`generate(label=...)` output (at the default temperature 0.7, and at 0 and 1), the same classifier on held-out sounds
resynthesized by the model (how much class identity the grain level alone keeps), the training sounds per class, and
the training curve stored in each model. Generation also reports its variety: the mean pairwise distance between the
log-mel spectrograms of the generated sounds of each class, against the same figure for real sounds of that class
(a ratio near 1: as varied as the real hits; near 0: one sound repeated). For a model conditioned on pitch, real notes of a class
span three octaves while `generate(label)` plays the label's usual pitch, so the variety is also given with the generated notes at
the real notes' own pitches (`ratio_at_real_pitches`: like with like). Per class it also says what the classifier hears generated
sounds as instead (`generated_heard_as`) and their level against real sounds (`generated_level_db_vs_real`). Novelty: the
distance from each generated sound to the nearest training sound of its class, beside the same for held-out real sounds
(`generated_to_nearest_training` vs `held_out_to_nearest_training`; a generated figure near 0 would mean copies). For a model conditioned on pitch, the f0 (YIN)
of `generate(label, pitch=p)` against p. Prints JSON (one line per corpus).

Usage: python bench/bench_grains_quality.py [--only gm-drums] [--per-class 10] [--model gm-drums-small | --model path.lp]
       [--generation-only]   (skips the stored-grain and noise baselines: minutes less)
Uses the shipped pretrained models (trained on `split(test=0.1, seed=0)`; the 10% here were never seen)."""
import argparse, json, time
from collections import Counter
import numpy as np
import torch

from latentplay.corpus import Corpus
from latentplay.models import pretrained, load_model
from latentplay.catart import StoredGrains
from latentplay.dsp import lsd, sc, rmse_logmag, LogMel
from latentplay.granular import loudness_matched_noise
from latentplay.sound import Sound

METRICS = {'lsd': lsd, 'sc': sc, 'rmse_logmag': rmse_logmag}


def scores(pairs):
    out = {k: [] for k in METRICS}
    for ref, est in pairs:
        for k, f in METRICS.items(): out[k].append(float(f(ref, est)))
    return {k: round(float(np.median(v)), 3) for k, v in out.items()}


class Classifier:
    "Logistic regression on log-mel statistics (mean and std over the first second), trained on real sounds."
    def __init__(self, sr):
        self.mel = LogMel(sr, 2048, 512, n_mels=64)

    def features(self, sounds):
        L = sounds[0].sr
        xs = [torch.from_numpy(np.pad(s.audio[:L], (0, max(0, L - len(s.audio))))) for s in sounds]
        M = self.mel(torch.stack(xs))                              # [n, 64, frames]
        return torch.cat([M.mean(-1), M.std(-1)], -1)

    def fit(self, sounds, labels, classes, steps=500):
        X = self.features(sounds); self.mu, self.sd = X.mean(0), X.std(0) + 1e-5
        y = torch.tensor([classes.index(l) for l in labels])
        self.lin = torch.nn.Linear(X.shape[1], len(classes))
        opt = torch.optim.Adam(self.lin.parameters(), 1e-2, weight_decay=1e-3)
        Xn = (X - self.mu) / self.sd
        for _ in range(steps):
            opt.zero_grad(); torch.nn.functional.cross_entropy(self.lin(Xn), y).backward(); opt.step()
        self.classes = classes
        return self

    @torch.no_grad()
    def predict(self, sounds):
        return [self.classes[i] for i in self.lin((self.features(sounds) - self.mu) / self.sd).argmax(-1).tolist()]


def _logmel(sounds, sr):
    "Log-mel spectrograms of the first second of `sounds` (floor -60 dB), flattened `[n, bins]`."
    mel = LogMel(sr, 2048, 512, n_mels=64, amin=1e-6)
    return mel(torch.stack([torch.from_numpy(np.pad(s.audio[:sr], (0, max(0, sr - len(s.audio))))) for s in sounds])).flatten(1)


def spread(sounds, sr):
    "Mean pairwise distance between the log-mel spectrograms (first second, floor -60 dB) of `sounds`, RMS in dB per bin."
    F = _logmel(sounds, sr)
    d = torch.cdist(F, F) / F.shape[1] ** 0.5
    return float(d[~torch.eye(len(F), dtype=bool)].mean())


def nearest(sounds, others, sr):
    "Mean over `sounds` of the distance (as `spread`'s) to the nearest of `others`: near 0, a copy of one of them."
    A, B = _logmel(sounds, sr), _logmel(others, sr)
    return float((torch.cdist(A, B) / A.shape[1] ** 0.5).min(1).values.mean())


def level_db(s) -> float:
    "RMS level of the first second, dB."
    return float(20 * np.log10(np.sqrt(np.mean(s.audio[:s.sr] ** 2)) + 1e-9))


def pitch_check(m, train, per_label=3):
    "f0 of generated notes against the pitch asked for: for each label, `per_label` pitches spread over its training range."
    from latentplay.features import f0_yin
    errs, voiced = [], 0
    for lab in m.labels:
        ps = sorted(float(s.meta['pitch']) for s in train if s.meta.get('label') == lab)
        for q in np.quantile(ps, np.linspace(0.2, 0.8, per_label)).round():
            g = m.generate(label=lab, pitch=float(q), seed=0)
            f0, per = f0_yin(torch.from_numpy(g.audio[:g.sr]), g.sr)
            v = f0[per > 0.5]
            if len(v): voiced += 1; errs.append(abs(12 * np.log2(float(v.median()) / 440) + 69 - q))
    e = np.array(errs)
    return {'notes': len(m.labels) * per_label, 'voiced': voiced, 'median_error_semitones': round(float(np.median(e)), 2) if len(e) else None,
            'within_half_semitone': round(float((e < 0.5).mean()), 3) if len(e) else None,
            'octave_errors': round(float((np.abs(e - 12) < 0.5).mean()), 3) if len(e) else None}


def run(name, per_class, model=None, generation_only=False):
    torch.manual_seed(0)
    c = Corpus.builtin(name, sr=22050, progress=False)
    train, test = c.split(test=0.1, seed=0)
    m = load_model(model) if model and model.endswith('.lp') else pretrained(model or name)
    t0 = time.perf_counter(); neural = [(s, m.resynthesize(s)) for s in test]; t_neural = time.perf_counter() - t0
    out = {'benchmark': 'grains-quality', 'corpus': name, 'model': model or name, 'held_out_sounds': len(test),
           'config': {k: v for k, v in m.config().items() if k != 'labels'}}
    if not generation_only: out.update(baselines(m, train, test, neural, t_neural))
    if m.labels: out.update(generation(m, c, train, test, neural, per_class))
    hist = [h for h in m.info.get('history', []) if 'val_lsd' in h]
    out['training_curve'] = [{'minutes': round(h['minutes'], 2), 'lsd': round(h['val_lsd'], 2), 'sc': round(h['val_sc'], 3)}
                             for h in hist]
    out['training'] = {'steps': m.info.get('steps'), 'minutes': round(m.info.get('minutes', 0), 1),
                       'device': m.info.get('trained_on', 'cpu')}
    return out


def baselines(m, train, test, neural, t_neural):
    "Resynthesis of the held-out sounds against stored grains (all, and the neural model's size), noise and the ceiling."
    t0 = time.perf_counter(); sg = StoredGrains.fit(train, max_grains=20000, progress=False); t_fit = time.perf_counter() - t0
    t0 = time.perf_counter(); stored = [(s, sg.resynthesize(s)) for s in test]; t_stored = time.perf_counter() - t0
    n_small = max(1, round(sum(p.numel() for p in m.parameters()) / m.frame_length))     # the neural model's size in grains
    sg_small = StoredGrains.fit(train, max_grains=n_small, progress=False)
    stored_small = [(s, sg_small.resynthesize(s)) for s in test]
    noise = [(s, loudness_matched_noise(s, i)) for i, s in enumerate(test)]
    oracle = [(s, m.noise_ceiling(s)) for s in test]
    return {'resynthesis_median': {'neural_granular': scores(neural), 'stored_grains': scores(stored),
                                  'stored_grains_same_size_as_neural': scores(stored_small),
                                  'loudness_matched_noise': scores(noise),
                                  'noise_grain_ceiling': scores(oracle)},
           'stored_grains_same_size_count': n_small,
           'stored_grains_kept': int(sg.grains.shape[0]), 'stored_grains_MB': round(sg.grains.numel() * 4 / 1e6, 1),
           'neural_model_MB': round(sum(p.numel() for p in m.parameters()) * 4 / 1e6, 1),
           'seconds': {'neural_resynthesis': round(t_neural, 2), 'stored_fit': round(t_fit, 2),
                       'stored_resynthesis': round(t_stored, 2)}}


def generation(m, c, train, test, neural, per_class):
    "The classifier on real, resynthesized and generated sounds (per class), the variety of generated sounds, pitch."
    out = {'resynthesis_median_neural': scores(neural)}
    clf = Classifier(c.sr).fit(train.sounds, train.labels, m.labels)
    real = clf.predict(test.sounds)
    out['classifier_real_held_out_accuracy'] = round(float(np.mean([p == l for p, l in zip(real, test.labels)])), 3)
    resyn = clf.predict([o for _, o in neural])                 # the grain level alone: held-out sounds rebuilt
    out['classifier_resynthesized_accuracy'] = round(float(np.mean([p == l for p, l in zip(resyn, test.labels)])), 3)
    pitched = bool(m.conditions.get('pitch'))
    for temperature in (0.7, 0.0, 1.0):                           # the default first; 0: each label's typical sequence
        per, div, heard, level = {}, {}, {}, {}
        for lab in m.labels:
            gen = m.generate(label=lab, n=per_class, seed=0, temperature=temperature)
            said = clf.predict(gen)
            per[lab] = round(float(np.mean([p == lab for p in said])), 2)
            if temperature == 0.7:
                mine = [s for s in train if s.meta.get('label') == lab][:2 * per_class]
                div[lab] = {'generated': round(spread(gen, c.sr), 2), 'real': round(spread(mine, c.sr), 2)}
                div[lab]['ratio'] = round(div[lab]['generated'] / div[lab]['real'], 2)
                every = [s for s in train if s.meta.get('label') == lab]    # novelty: how far from the nearest training sound
                div[lab]['generated_to_nearest_training'] = round(nearest(gen, every, c.sr), 2)
                div[lab]['held_out_to_nearest_training'] = round(nearest([s for s in test if s.meta.get('label') == lab] or gen, every, c.sr), 2)
                if pitched:                                       # like with like: generated at the real notes' own pitches
                    at = [m.generate(label=lab, pitch=float(s.meta['pitch']), seed=i, temperature=temperature) for i, s in enumerate(mine)]
                    div[lab]['generated_at_real_pitches'] = round(spread(at, c.sr), 2)
                    div[lab]['ratio_at_real_pitches'] = round(div[lab]['generated_at_real_pitches'] / div[lab]['real'], 2)
                heard[lab] = {k: v for k, v in sorted(Counter(said).items(), key=lambda kv: -kv[1]) if k != lab}
                level[lab] = round(float(np.mean([level_db(s) for s in gen]) - np.mean([level_db(s) for s in mine])), 1)
        key = 'classifier_generated_accuracy' + ('' if temperature == 0.7 else f'_temperature_{temperature:g}')
        out[key] = {'mean': round(float(np.mean(list(per.values()))), 3), 'min': min(per.values()), 'per_class': per,
                    'chance': round(1 / len(m.labels), 3), 'per_class_n': per_class}
        if div:
            out['diversity_db'] = {'generated_mean': round(float(np.mean([d['generated'] for d in div.values()])), 2),
                                   'real_mean': round(float(np.mean([d['real'] for d in div.values()])), 2),
                                   'ratio_mean': round(float(np.mean([d['generated'] / d['real'] for d in div.values()])), 2),
                                   'per_class': div}
            out['diversity_db']['generated_to_nearest_training_mean'] = round(float(np.mean([d['generated_to_nearest_training'] for d in div.values()])), 2)
            out['diversity_db']['held_out_to_nearest_training_mean'] = round(float(np.mean([d['held_out_to_nearest_training'] for d in div.values()])), 2)
            if pitched: out['diversity_db']['ratio_mean_at_real_pitches'] = round(float(np.mean([d['ratio_at_real_pitches'] for d in div.values()])), 2)
            out['generated_heard_as'] = {l: h for l, h in heard.items() if h}      # what the classifier hears instead
            out['generated_level_db_vs_real'] = level                              # first second, RMS, per class
    out['training_sounds_per_class'] = {l: int(sum(x == l for x in train.labels)) for l in m.labels}
    if m.conditions.get('pitch'): out['pitch_of_generated'] = pitch_check(m, train)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--only', nargs='*', default=['gm-drums', 'gm-notes', 'gm-textures'])
    ap.add_argument('--per-class', type=int, default=10)
    ap.add_argument('--model', default=None, help='a shipped model other than the corpus\'s own (e.g. gm-drums-small with --only gm-drums), or a .lp file')
    ap.add_argument('--generation-only', action='store_true', help='skip the stored-grain and noise baselines (the slow part)')
    a = ap.parse_args()
    torch.set_num_threads(1)
    for name in a.only: print(json.dumps(run(name, a.per_class, a.model, a.generation_only)), flush=True)


if __name__ == '__main__': main()
