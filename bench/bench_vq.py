"""VQTimbre (latentplay.vq) on violins: resynthesis of held-out violin notes beside the shipped granular model, the
codebook's use, a transfer (flute -> violin), following a centroid curve with the code words, and speed on one thread.

The violins are every violin note of gm-notes and gm-techniques; the held-out ones are those of each corpus's own
`split(test=0.1, seed=0)`, so the shipped `pretrained('gm-notes')` GrainModel (trained on gm-notes' split) never heard
the gm-notes ones either: the side-by-side figures are on those. Prints JSON (one object).

Usage: python bench/bench_vq.py [--minutes 5] [--model violin.lp] [--save violin.lp] [--n-codes 256]"""
import argparse, json, time
import numpy as np
import torch

from latentplay.corpus import Corpus
from latentplay.dsp import lsd, sc
from latentplay.features import loudness, descriptors
from latentplay.models import load_model, pretrained
from latentplay.sound import Sound
from latentplay.vq import VQTimbre, perplexity, usage, SOUNDING_DB


def violins():
    "(train, held, held_of_gm_notes): violin notes of gm-notes and gm-techniques, held out by each corpus's own split."
    notes, tech = Corpus.builtin('gm-notes', progress=False), Corpus.builtin('gm-techniques', progress=False)
    (ntr, nte), (ttr, tte) = notes.split(test=0.1, seed=0), tech.split(test=0.1, seed=0)
    v = lambda c: list(c.filter(instrument='Violin').sounds)
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--minutes', type=float, default=5.0)
    ap.add_argument('--model', default=None, help='a trained VQTimbre to measure instead of training one')
    ap.add_argument('--save', default=None)
    ap.add_argument('--n-codes', type=int, default=256)
    a = ap.parse_args()
    torch.set_num_threads(1)
    train, held, held_notes, notes, notes_test = violins()
    t0 = time.perf_counter()
    m = load_model(a.model) if a.model else VQTimbre.fit(train, minutes=a.minutes, valid=held, progress=False, validate_every=60,
                                                         n_codes=a.n_codes)
    train_s = time.perf_counter() - t0
    if a.save and not a.model: m.save(a.save)
    out = {'violin_notes': {'train': len(train), 'held': len(held), 'held_gm_notes': len(held_notes)},
           'model': {'n_codes': m.n_codes, 'latent_dim': m.latent_dim, 'parameters': sum(p.numel() for p in m.parameters()),
                     'steps': m.info.get('steps'), 'minutes': round(m.info.get('minutes', train_s / 60), 2), 'restarts': m.info.get('restarts')}}
    # resynthesis
    rs = [(s, m.resynthesize(s)) for s in held]
    g = pretrained('gm-notes')
    rn = [(s, m.resynthesize(s)) for s in held_notes]
    gn = [(s, g.resynthesize(s)) for s in held_notes]
    cn = [(s, ceiling(m, s)) for s in held_notes]
    out['resynthesis_held_violins'] = {'vq': {'lsd': med(lsd, rs), 'sc': med(sc, rs)}}
    out['resynthesis_held_gm_notes_violins'] = {'vq': {'lsd': med(lsd, rn), 'sc': med(sc, rn)},
                                                'grains_pretrained_gm_notes': {'lsd': med(lsd, gn), 'sc': med(sc, gn)},
                                                'noise_ceiling': {'lsd': med(lsd, cn), 'sc': med(sc, cn)}}
    # codebook
    idx, on = [], []
    for s in held:
        l = m.loudness(s); idx.append(m.codes(s)); on.append(l > SOUNDING_DB)
    idx, on = torch.cat(idx), torch.cat(on)
    tr_idx = torch.cat([m.codes(s)[m.loudness(s) > SOUNDING_DB] for s in list(train.sounds)])
    out['codebook'] = {'held_frames': int(on.sum()), 'perplexity_held': round(perplexity(idx[on], m.n_codes), 1),
                       'usage_held': round(usage(idx[on], m.n_codes), 3), 'perplexity_train': round(perplexity(tr_idx, m.n_codes), 1),
                       'usage_train': round(usage(tr_idx, m.n_codes), 3)}
    # transfer: held-out flutes (and a choir voice) -> violin; loudness kept
    def transfer_stats(srcs):
        cors, shift = [], []
        for s in srcs:
            y = m.transfer(s)
            li, lo = loudness(s), loudness(y)
            k = li > li.max() - 40
            cors.append(float(np.corrcoef(li[k], lo[k])[0, 1])); shift.append(float((lo[k] - li[k]).median()))
        return {'n': len(srcs), 'loudness_correlation_median': round(float(np.median(cors)), 3),
                'loudness_offset_db_median': round(float(np.median(shift)), 2)}
    out['transfer_to_violin'] = {'flute': transfer_stats(list(notes_test.filter(instrument='Flute').sounds)),
                                 'choir': transfer_stats(list(notes_test.filter(instrument='Choir').sounds))}
    # following a centroid curve
    tab = m.code_descriptors()
    lo_c, hi_c = float(tab['centroid'].min()), float(tab['centroid'].max())
    curve = np.concatenate([np.geomspace(800, 4000, 40), np.geomspace(4000, 1200, 47)])
    res = {}
    for sw in (0.0, 0.05):
        t1 = time.perf_counter(); snd = m.follow(curve, 'centroid', switch=sw); dt = time.perf_counter() - t1
        got = descriptors(snd, names=['centroid'])['centroid'][:-1].numpy()
        res[f'switch_{sw}'] = {'median_relative_error': round(float(np.median(np.abs(got - curve) / curve)), 3),
                               'code_changes': int(np.sum(np.diff(snd.meta['codes']) != 0)), 'seconds': round(dt, 3)}
    from latentplay.targets import greedy_descriptor_path, follow_descriptors    # the search-based methods, for comparison
    for name, f in (('greedy_search', lambda: greedy_descriptor_path(m, {'centroid': np.append(curve, curve[-1])})),
                    ('gradient_search', lambda: follow_descriptors(m, {'centroid': np.append(curve, curve[-1])}, n_iter=100))):
        r = f()
        got = descriptors(r.sound, names=['centroid'])['centroid'][:-1].numpy()
        res[name] = {'median_relative_error': round(float(np.median(np.abs(got - curve) / curve)), 3),
                     'decoder_calls': r.decoder_calls, 'seconds': round(r.seconds, 3)}
    t1 = time.perf_counter(); m._table = {}; m.code_descriptors(); table_s = time.perf_counter() - t1
    out['follow_centroid'] = {'code_centroids_hz': [round(lo_c), round(hi_c)], 'table_seconds': round(table_s, 3), **res}
    # speed, one thread: 10 s
    z = m.prior(int(10 * m.sr / m.hop_length), seed=0)
    ten = Sound(np.tile(held.sounds[0].audio, 10)[:10 * m.sr], m.sr)
    zg = g.encode(ten)
    out['speed_rtf_one_thread'] = {'vq_decode': rtf(lambda: m.decode(z), 10), 'vq_transfer': rtf(lambda: m.transfer(ten), 10),
                                   'grains_decode': rtf(lambda: g.decode(zg), 10), 'grains_resynthesize': rtf(lambda: g.resynthesize(ten), 10)}
    print(json.dumps(out))


if __name__ == '__main__':
    main()
