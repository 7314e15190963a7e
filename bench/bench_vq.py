"""VQTimbre (latentplay.vq) on violins: resynthesis of held-out violin notes beside the shipped granular model, the
codebook's use, a transfer (flute -> violin), following a centroid curve with the code words, and speed on one thread;
for each decoder ('noise', the paper's, and 'harmonic', DDSP-style harmonics of the input's f0 beside the noise), side
by side: held-out lsd and sc, the f0 error in cents of the output against the input on held-out violin notes, an
instrument classifier's recognition of the violin in resyntheses and transfers, and decoding speed.

The violins are every violin note of gm-notes and gm-techniques; the held-out ones are those of each corpus's own
`split(test=0.1, seed=0)`, so the shipped `pretrained('gm-notes')` GrainModel (trained on gm-notes' split) never heard
the gm-notes ones either: the side-by-side figures are on those. Prints JSON (one object).

Usage: python bench/bench_vq.py [--minutes 5] [--decoders noise,harmonic] [--model violin.lp] [--harmonic-model violin-h.lp]
                                [--save violin] [--n-codes 256]
(--model / --harmonic-model measure trained files instead of training; --save PREFIX writes PREFIX-noise.lp, PREFIX-harmonic.lp)"""
import argparse, json, math, time
import numpy as np
import torch
from bench_grains_quality import Classifier                    # logistic regression on log-mel statistics of real notes

from latentplay.corpus import Corpus
from latentplay.dsp import lsd, sc
from latentplay.features import loudness, descriptors, f0_yin
from latentplay.models import load_model, pretrained
from latentplay.sound import Sound
from latentplay.vq import VQTimbre, perplexity, usage, SOUNDING_DB


def violins(instrument='Violin'):
    "(train, held, held_of_gm_notes, gm-notes, its test split): an instrument's notes of gm-notes and gm-techniques, held out by each corpus's own split."
    notes, tech = Corpus.builtin('gm-notes', progress=False), Corpus.builtin('gm-techniques', progress=False)
    (ntr, nte), (ttr, tte) = notes.split(test=0.1, seed=0), tech.split(test=0.1, seed=0)
    def v(c):
        try: return list(c.filter(instrument=instrument).sounds)
        except ValueError: return []                       # an instrument that only one of the two corpora has
    return (Corpus(v(ntr) + v(ttr), notes.sr), Corpus(v(nte) + v(tte), notes.sr), v(nte), notes, nte)


def med(f, pairs): return round(float(np.median([float(f(a, b)) for a, b in pairs])), 3)


def ceiling(m, s):
    "Each frame's exact magnitude imposed on the model's noise, at its level (the best any noise-filter decoder does)."
    x = torch.from_numpy(s.audio)
    mag = torch.fft.rfft(torch.nn.functional.pad(x, (1024, 1024)).unfold(-1, 2048, 512) * torch.hann_window(2048)).abs()
    return Sound(m.synth.get_signal(mag / m._level, post=False, length=len(x)).numpy(), s.sr)


def rtf(f, seconds, reps=5):
    f()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter(); f(); ts.append(time.perf_counter() - t0)
    return round(seconds / float(np.median(ts)), 1)


def cents(f, sounds):
    "Median |f0 error| in cents of `f(sound)` (a resynthesis, a transfer) against the input, over frames voiced in both (YIN searched near the note's pitch)."
    errs, voiced, total, per_in, per_out = [], 0, 0, [], []
    for s in sounds:
        hz = 440 * 2 ** ((float(s.meta['pitch']) - 69) / 12)
        fi, pi = f0_yin(s, fmin=0.7 * hz, fmax=1.4 * hz)
        fo, po = f0_yin(f(s), fmin=0.7 * hz, fmax=1.4 * hz)
        on, k = pi > 0.5, (pi > 0.5) & (po > 0.5)
        total += int(on.sum()); voiced += int(k.sum())
        errs += (1200 * torch.log2(fo[k] / fi[k])).abs().tolist()
        per_in += pi[on].tolist(); per_out += po[:len(on)][on[:len(po)]].tolist()
    return {'median_cents': round(float(np.median(errs)), 1) if errs else None, 'share_of_voiced_input_frames_voiced_in_output':
            round(voiced / max(1, total), 3), 'median_periodicity_in': round(float(np.median(per_in)), 3),
            'median_periodicity_out': round(float(np.median(per_out)), 3)}   # YIN periodicity on the input's voiced frames: 1 = perfectly periodic


def measure(m, train, held, held_notes, notes_test, clf, g, follow_search=True):
    "Every figure of one model."
    out = {'model': {'decoder': m.config().get('decoder', 'noise'), 'n_codes': m.n_codes, 'latent_dim': m.latent_dim,
                     'parameters': sum(p.numel() for p in m.parameters()), 'steps': m.info.get('steps'),
                     'minutes': round(m.info.get('minutes') or 0, 2), 'restarts': m.info.get('restarts')}}
    rs = [(s, m.resynthesize(s)) for s in held]
    rn = [(s, m.resynthesize(s)) for s in held_notes]
    out['resynthesis_held_violins'] = {'lsd': med(lsd, rs), 'sc': med(sc, rs)}
    out['resynthesis_held_gm_notes_violins'] = {'lsd': med(lsd, rn), 'sc': med(sc, rn)}
    out['f0_error_held_violins'] = cents(m.resynthesize, list(held))
    pred = clf.predict([y for _, y in rs])
    out['classifier_violin_share'] = {'resynthesized_held_violins': round(float(np.mean([p == 'Violin' for p in pred])), 3)}
    idx, on = [], []
    for s in held:
        l = m.loudness(s); idx.append(m.codes(s)); on.append(l > SOUNDING_DB)
    idx, on = torch.cat(idx), torch.cat(on)
    tr_idx = torch.cat([m.codes(s)[m.loudness(s) > SOUNDING_DB] for s in list(train.sounds)])
    out['codebook'] = {'held_frames': int(on.sum()), 'perplexity_held': round(perplexity(idx[on], m.n_codes), 1),
                       'usage_held': round(usage(idx[on], m.n_codes), 3), 'perplexity_train': round(perplexity(tr_idx, m.n_codes), 1),
                       'usage_train': round(usage(tr_idx, m.n_codes), 3)}
    def transfer_stats(srcs):
        cors, shift, ys = [], [], []
        for s in srcs:
            y = m.transfer(s); ys.append(y)
            li, lo = loudness(s), loudness(y)
            k = li > li.max() - 40
            cors.append(float(np.corrcoef(li[k], lo[k])[0, 1])); shift.append(float((lo[k] - li[k]).median()))
        return {'n': len(srcs), 'loudness_correlation_median': round(float(np.median(cors)), 3),
                'loudness_offset_db_median': round(float(np.median(shift)), 2),
                'classifier_violin_share': round(float(np.mean([p == 'Violin' for p in clf.predict(ys)])), 3),
                'f0_error': cents(m.transfer, srcs)}
    out['transfer_to_violin'] = {'flute': transfer_stats(list(notes_test.filter(instrument='Flute').sounds)),
                                 'choir': transfer_stats(list(notes_test.filter(instrument='Choir').sounds))}
    tab = m.code_descriptors()
    lo_c, hi_c = float(tab['centroid'].min()), float(tab['centroid'].max())
    curve = np.concatenate([np.geomspace(800, 4000, 40), np.geomspace(4000, 1200, 47)])
    res = {}
    for sw in (0.0, 0.05):
        t1 = time.perf_counter(); snd = m.follow(curve, 'centroid', switch=sw); dt = time.perf_counter() - t1
        got = descriptors(snd, names=['centroid'])['centroid'][:-1].numpy()
        res[f'switch_{sw}'] = {'median_relative_error': round(float(np.median(np.abs(got - curve) / curve)), 3),
                               'code_changes': int(np.sum(np.diff(snd.meta['codes']) != 0)), 'seconds': round(dt, 3)}
    if follow_search:
        from latentplay.targets import greedy_descriptor_path, follow_descriptors    # the search-based methods, for comparison
        for name, f in (('greedy_search', lambda: greedy_descriptor_path(m, {'centroid': np.append(curve, curve[-1])})),
                        ('gradient_search', lambda: follow_descriptors(m, {'centroid': np.append(curve, curve[-1])}, n_iter=100))):
            r = f()
            got = descriptors(r.sound, names=['centroid'])['centroid'][:-1].numpy()
            res[name] = {'median_relative_error': round(float(np.median(np.abs(got - curve) / curve)), 3),
                         'decoder_calls': r.decoder_calls, 'seconds': round(r.seconds, 3)}
    t1 = time.perf_counter(); m._table = {}; m.code_descriptors(); table_s = time.perf_counter() - t1
    out['follow_centroid'] = {'code_centroids_hz': [round(lo_c), round(hi_c)], 'table_seconds': round(table_s, 3), **res}
    z = m.prior(int(10 * m.sr / m.hop_length), seed=0)
    ten = Sound(np.tile(held.sounds[0].audio, 10)[:10 * m.sr], m.sr)
    out['speed_rtf_one_thread'] = {'vq_decode': rtf(lambda: m.decode(z), 10), 'vq_transfer': rtf(lambda: m.transfer(ten), 10)}
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--minutes', type=float, default=5.0, help='training minutes per decoder (when no model file is given)')
    ap.add_argument('--decoders', default='noise,harmonic')
    ap.add_argument('--model', default=None, help="a trained 'noise' VQTimbre to measure instead of training one")
    ap.add_argument('--harmonic-model', default=None, help="a trained 'harmonic' VQTimbre to measure instead of training one")
    ap.add_argument('--save', default=None, help='prefix of the trained models written (PREFIX-noise.lp, PREFIX-harmonic.lp)')
    ap.add_argument('--n-codes', type=int, default=256)
    ap.add_argument('--no-search', action='store_true', help='skip the search-based descriptor methods')
    a = ap.parse_args()
    torch.set_num_threads(1)
    train, held, held_notes, notes, notes_test = violins()
    ntr = notes.split(test=0.1, seed=0)[0]
    clf = Classifier(notes.sr).fit(list(ntr.sounds), [s.meta['instrument'] for s in ntr.sounds],
                                   sorted({s.meta['instrument'] for s in ntr.sounds}))
    g = pretrained('gm-notes')
    out = {'violin_notes': {'train': len(train), 'held': len(held), 'held_gm_notes': len(held_notes)}}
    out['classifier_violin_share_real_held_violins'] = round(float(np.mean([p == 'Violin' for p in clf.predict(list(held))])), 3)
    m0 = None
    for dec in a.decoders.split(','):
        path = {'noise': a.model, 'harmonic': a.harmonic_model}[dec]
        if path: m = load_model(path)
        else:
            m = VQTimbre.fit(train, minutes=a.minutes, valid=held, progress=False, validate_every=60, n_codes=a.n_codes, decoder=dec)
            if a.save: m.save(f'{a.save}-{dec}.lp', half=True)
        out[dec] = measure(m, train, held, held_notes, notes_test, clf, g, follow_search=not a.no_search)
        m0 = m0 or m
    gn = [(s, g.resynthesize(s)) for s in held_notes]
    cn = [(s, ceiling(m0, s)) for s in held_notes]
    out['resynthesis_held_gm_notes_violins_reference'] = {'grains_pretrained_gm_notes': {'lsd': med(lsd, gn), 'sc': med(sc, gn)},
                                                         'noise_ceiling': {'lsd': med(lsd, cn), 'sc': med(sc, cn)}}
    ten = Sound(np.tile(held.sounds[0].audio, 10)[:10 * g.sr], g.sr)
    zg = g.encode(ten)
    out['speed_rtf_one_thread_grains'] = {'grains_decode': rtf(lambda: g.decode(zg), 10), 'grains_resynthesize': rtf(lambda: g.resynthesize(ten), 10)}
    print(json.dumps(out))


if __name__ == '__main__':
    main()
