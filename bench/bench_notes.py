"""NoteModel (latentplay.notes) measured on held-out notes of gm-techniques; prints JSON.

    python bench/bench_notes.py --fader-model F.lp --plain-model P.lp     # models from scripts/train_notes.py
    python bench/bench_notes.py --minutes 5                               # or train both here (fader, then no fader)
    python bench/bench_notes.py --model f1=A.lp --model f4c10=B.lp        # or compare any trained models, side by side

- conditions of generated notes recognised by classifiers trained on real notes (instrument, style: logistic regression
  on log-mel statistics; pitch: YIN f0 of the note, exact MIDI and pitch class), beside the same classifiers on real
  held-out notes (the ceiling) and chance;
- the fader: a logistic regression from z to instrument and to style (trained on training notes' z, tested on held-out
  z), with the fader and without it;
- resynthesis of held-out notes (`lsd`, `sc`) against Griffin-Lim and the learned inverter of the true magnitudes;
- training minutes and steps of each model (2 shared cores, one thread); slider -> 1 s note latency on one thread.

The split (`--split`): `grouped` (the default) holds out every velocity of one technique's pitch together
(`split(test=0.1, seed=0, group='auto')`); `sound` draws note by note, as before, which leaves another velocity of every
held-out note in training. Models given as files were trained on whatever split their script used: scripts/train_notes.py
draws note by note (`--hold-out 0.1`) or uses every note (`--hold-out 0`, the shipped one), so score them with
`--split sound`, or retrain them on the grouped split; `held_out_heard` counts held-out notes a 0.1 sound split trained on."""
import argparse, json, math, statistics, sys, time, warnings
from pathlib import Path
import numpy as np
import torch
from latentplay.corpus import Corpus
from latentplay.dsp import lsd, sc
from latentplay.features import f0_yin
from latentplay.models import load_model
from latentplay.notes import NoteModel
from latentplay.spectral import shipped_inverter_for

sys.path.insert(0, str(Path(__file__).parent))
from bench_grains_quality import Classifier as _Classifier     # the same features, so that figures compare

class Classifier(_Classifier):
    "The grains benchmark's classifier, also on given features (`fit_x`, `predict_x`: a probe of z) and with an optional hidden layer."
    def fit(self, sounds, labels, classes, steps=500): return self.fit_x(self.features(sounds), labels, classes, steps)
    def fit_x(self, X, labels, classes, steps=500, hidden=0):
        torch.manual_seed(0)
        self.mu, self.sd = X.mean(0), X.std(0) + 1e-5
        y = torch.tensor([classes.index(l) for l in labels])
        self.lin = (torch.nn.Sequential(torch.nn.Linear(X.shape[1], hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, len(classes)))
                    if hidden else torch.nn.Linear(X.shape[1], len(classes)))
        opt = torch.optim.Adam(self.lin.parameters(), 1e-2, weight_decay=1e-3)
        Xn = (X - self.mu) / self.sd
        for _ in range(steps):
            opt.zero_grad(); torch.nn.functional.cross_entropy(self.lin(Xn), y).backward(); opt.step()
        self.classes = classes
        return self
    @torch.no_grad()
    def predict_x(self, X): return [self.classes[i] for i in self.lin((X - self.mu) / self.sd).argmax(-1).tolist()]
    def predict(self, sounds): return self.predict_x(self.features(sounds))

def acc(pred, true): return float(np.mean([p == t for p, t in zip(pred, true)]))

def midi_of(s):
    f0, per = f0_yin(torch.from_numpy(s.audio[:s.sr]), s.sr)
    v = f0[per > 0.5]
    return None if not len(v) else int(round(69 + 12 * math.log2(float(v.median()) / 440)))

def conditions_recognised(m, train, test, inst_clf, style_clf):
    "Generate one note per held-out note's (pitch, instrument, style) and ask the classifiers."
    conds = [(s.meta['pitch'], s.meta['instrument'], s.meta['style']) for s in test]
    gen = [m.generate(pitch=p, instrument=i, style=st, seed=k) for k, (p, i, st) in enumerate(conds)]
    def rates(sounds):
        mids = [midi_of(s) for s in sounds]
        return dict(instrument=acc(inst_clf.predict(sounds), [c[1] for c in conds]),
                    style=acc(style_clf.predict(sounds), [c[2] for c in conds]),
                    pitch_exact=acc(mids, [c[0] for c in conds]),
                    pitch_class=acc([None if x is None else x % 12 for x in mids], [c[0] % 12 for c in conds]))
    return rates(gen), rates(test), gen

def fader_probe(m, train, test):
    "Classifiers from z to instrument and to style (logistic regression, and a one-hidden-layer MLP): held-out accuracy."
    with torch.no_grad(): ztr, zte = torch.cat([m.encode(s) for s in train]), torch.cat([m.encode(s) for s in test])
    out = {}
    for key in ('instrument', 'style'):
        classes = sorted({s.meta[key] for s in train})
        for kind, hidden in (('logistic', 0), ('mlp', 64)):
            clf = Classifier(m.sr).fit_x(ztr, [s.meta[key] for s in train], classes, 800, hidden)
            out[f'{key}_{kind}'] = acc(clf.predict_x(zte), [s.meta[key] for s in test])
    return out

@torch.no_grad()
def resynthesis(m, test):
    inv, rows = shipped_inverter_for(m.spectral), {'model (inverter)': [], 'model (griffin-lim 32)': [], 'true magnitudes, griffin-lim 32': [],
                                              'true magnitudes, learned inverter': []}
    for s in test:
        x = m._fit_length(torch.from_numpy(s.audio))
        z, c = m.encode(s), dict(pitch=s.meta['pitch'], instrument=s.meta['instrument'], style=s.meta['style'])
        M = m.spectral(x)
        ys = {'model (inverter)': torch.from_numpy(m.decode(z, **c).audio),
              'model (griffin-lim 32)': torch.from_numpy(m.decode(z, **c, method='griffin-lim').audio),
              'true magnitudes, griffin-lim 32': m.spectral.griffin_lim(M, 32, length=len(x)),
              'true magnitudes, learned inverter': inv.to_audio(M, len(x)) if inv is not None else None}
        for k, y in ys.items():
            if y is not None: rows[k].append((float(lsd(x, y)), float(sc(x, y))))
    return {k: dict(lsd=float(np.mean([a for a, _ in v])), sc=float(np.mean([b for _, b in v]))) for k, v in rows.items() if v}

def latency(m, reps=20):
    torch.set_num_threads(1)
    z = m.prior(1)
    out = {}
    for method in ('inverter', 'griffin-lim'):
        m.decode(z, pitch=60, instrument='Violin', style='arco', method=method)      # warm
        ts = []
        for i in range(reps):
            zz = z + 0.1 * i
            t0 = time.perf_counter(); m.decode(zz, pitch=60, instrument={'Violin': 0.7, 'Trumpet': 0.3}, style='pizzicato', method=method)
            ts.append(1000 * (time.perf_counter() - t0))
        out[method + '_ms'] = statistics.median(ts)
    return out

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--fader-model'); ap.add_argument('--plain-model')
    ap.add_argument('--minutes', type=float, default=5.0, help='training budget when no model file is given')
    ap.add_argument('--test-notes', type=int, default=57, help='held-out notes used (at most the 10%% split)')
    ap.add_argument('--model', action='append', default=[], metavar='NAME=PATH', help='measure these models (repeatable) instead')
    ap.add_argument('--split', choices=['grouped', 'sound'], default='grouped', help='grouped: siblings held out together; sound: the old split')
    a = ap.parse_args()
    torch.set_num_threads(1); warnings.simplefilter('ignore')
    c = Corpus.builtin('gm-techniques', progress=False)
    train, test = c.split(test=0.1, seed=0, group='auto' if a.split == 'grouped' else None)
    test = test[:a.test_notes] if a.test_notes < len(test) else test
    split_info = {'split': a.split, 'held_out_with_sibling_in_training': len(test.siblings_in(train)),
                  'held_out_heard': len(test.siblings_in(c.split(test=0.1, seed=0)[0], group=lambda m: tuple(sorted(m.items()))))}
    test = list(test)
    models = {k: load_model(v, kind='notes') for k, v in (x.split('=', 1) for x in a.model)}
    for name, path, fader in (() if models else (('fader', a.fader_model, 1.0), ('no_fader', a.plain_model, 0.0))):
        t0 = time.perf_counter()
        models[name] = load_model(path, kind='notes') if path else NoteModel.fit(train, minutes=a.minutes, fader=fader, progress=False)
        if not path: models[name].info['fit_seconds'] = time.perf_counter() - t0
    trs = list(train)
    inst_clf = Classifier(c.sr).fit(trs, [s.meta['instrument'] for s in trs], c.classes_of('instrument'))
    style_clf = Classifier(c.sr).fit(trs, [s.meta['style'] for s in trs], sorted({s.meta['style'] for s in trs}))
    out = {'benchmark': 'notes', 'corpus': 'gm-techniques', **split_info, 'train_notes': len(trs), 'held_out_notes': len(test),
           'chance': {'instrument': max(np.mean([s.meta['instrument'] == k for s in test]) for k in c.classes_of('instrument')),
                      'style': max(np.mean([s.meta['style'] == k for s in test]) for k in style_clf.classes)},
           'threads': 1}
    for name, m in models.items():
        gen, real, _ = conditions_recognised(m, trs, test, inst_clf, style_clf)
        out[name] = {'training_minutes': round(m.info.get('minutes', float('nan')), 2), 'steps': m.info.get('steps'),
                     'latent_dim': m.latent_dim, 'generated_conditions_recognised': gen, 'z_probe_accuracy': fader_probe(m, trs, test)}
        if a.model: out[name]['resynthesis'] = resynthesis(m, test)
        out['real_notes_recognised'] = real
    first = models.get('fader', next(iter(models.values())))
    if not a.model: out['resynthesis_fader_model'] = resynthesis(first, test)
    out['latency_1s_note_one_thread'] = latency(first)
    print(json.dumps(out, indent=1, default=float))

if __name__ == '__main__': main()
