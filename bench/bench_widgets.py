"""Latency of the interactive widgets, in the kernel, on one CPU thread (medians over repeated interactions, after a
warm-up; each run of the widgets' own code path, with `threaded=False` so the time is the render itself):

- slider move -> the new 1 s sound ready to play (decoded, WAV bytes, picture and download link in the player);
- a drawn stroke of 5 s on the latent map -> its sound ready to play (lift to the latent space, decode, player);
- a slider dragged through 100 positions while rendering in the background: how many renders that takes.

Descriptor-targeted synthesis (the third widget) is measured by bench/bench_targets.py.
Prints JSON. Usage: python bench/bench_widgets.py [--model gm-drums] [--repeats 30]"""
import argparse, json, time
import numpy as np
import torch

from latentplay.models import pretrained
from latentplay.corpus import Corpus
from latentplay.maps import sound_at, draw_sound
from latentplay.widgets import sliders, latent_map


def timings(f, inputs):
    f(inputs[0])                                                           # warm-up
    ts = []
    for x in inputs[1:]:
        t0 = time.perf_counter(); f(x); ts.append(time.perf_counter() - t0)
    return ts


def summary(ts):
    ms = 1000 * np.asarray(ts)
    return dict(median_ms=round(float(np.median(ms)), 2), p90_ms=round(float(np.percentile(ms, 90)), 2), n=len(ms))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--model', default='gm-drums')
    ap.add_argument('--repeats', type=int, default=30)
    a = ap.parse_args()
    torch.set_num_threads(1)
    m = pretrained(a.model)
    rng = np.random.default_rng(0)
    out = dict(model=a.model, threads=1)

    # slider -> 1 s sound: the widget's observer path (sound_at + player), and the synthesis alone for comparison
    w = sliders(m, seconds=1.0, threaded=False, autoplay=False)
    vals = rng.uniform(-2.5, 2.5, a.repeats + 1)
    widget = timings(lambda v: setattr(w.axis_sliders[0], 'value', float(v)), vals)
    assert w.renders == a.repeats + 2 and abs(w.sound.duration - 1.0) < 0.03
    synth = timings(lambda v: sound_at(m, [float(v)] + w.coords[1:], 1.0, label=w.label, axes=w.axes), vals)
    out['slider_to_1s_sound'] = dict(widget=summary(widget), synthesis_only=summary(synth), target_ms=30)

    # a drawn 5 s stroke on the map of the corpus the model was trained on
    lm = latent_map(m, Corpus.builtin(a.model), threaded=False, autoplay=False)
    xy = lm.map.xy.numpy()
    strokes = []
    for _ in range(max(5, a.repeats // 3) + 1):
        p0, p1 = xy[rng.integers(len(xy))], xy[rng.integers(len(xy))]
        u = np.linspace(0, 1, 80)[:, None]
        wob = 0.3 * np.sin(2 * np.pi * 3 * u) * np.array([[1.0, -1.0]])
        strokes.append(np.c_[p0 + u * (p1 - p0) + wob, 5000 * u[:, 0]])     # 5 s of drawing
    drawn = timings(lambda s: lm.draw(s), strokes)
    assert abs(lm.sound.duration - 5.0) < 0.05, lm.sound.duration
    synth = timings(lambda s: draw_sound(m, lm.map, s), strokes)
    out['stroke_to_5s_sound'] = dict(widget=summary(drawn), synthesis_only=summary(synth), steps=len(lm.path),
                                     corpus_sounds=len(lm.map), target_ms=100)

    # a fast drag in the background: renders are replaced, not queued
    wt = sliders(m, seconds=1.0, threaded=True, autoplay=False)   # as in a live kernel
    wt.wait(60)
    before = wt._renderer.rendered
    t0 = time.perf_counter()
    for v in np.linspace(-2, 2, 100):
        wt.axis_sliders[0].value = float(v); time.sleep(0.002)           # a drag: a move every ~2 ms
    wt.wait(60)
    out['drag_100_moves'] = dict(renders=wt._renderer.rendered - before, skipped=wt._renderer.skipped,
                                 seconds=round(time.perf_counter() - t0, 3),
                                 last_is_final_position=wt.rendered['coords'][0] == 2.0)
    print(json.dumps(out, indent=1))


if __name__ == '__main__':
    main()
