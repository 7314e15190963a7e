"""Path editor and blend pad latency on one CPU thread (medians after a warm-up). Prints JSON.

- edit -> new 1 s sound: the edit (a path operation along the principal axes) and the decode, i.e. the sound ready
  (`edit_*_to_sound_ms`), the issue's target being <= 30 ms;
- the same through the whole widget (`threaded=False`, so the call returns when the player holds the new sound:
  Ogg encoding, picture and download link of widgets.Player included): `edit_*_to_player_ms`;
- a pad point (click) and a pad stroke -> new 1 s sound, both ways;
- `player_set_ms`: the Player's share (the same for every widget of latentplay.widgets).
Run: .venv/bin/python bench/bench_editors.py
"""
import json, statistics, time
import torch
torch.set_num_threads(1)
import latentplay as lp
from latentplay import paths as P
from latentplay.maps import latent_steps, along_axes, _decode
from latentplay.editors import path_editor, blend_pad, blend_path


def median_ms(fn, n=30, warm=3):
    for _ in range(warm): fn()
    ts = []
    for _ in range(n):
        t = time.perf_counter(); fn(); ts.append(1000 * (time.perf_counter() - t))
    return round(statistics.median(ts), 2)


out = {'threads': 1, 'target_ms': 30}
for name in ('gm-drums', 'gm-textures'):
    m = lp.pretrained(name)
    T = latent_steps(m, 1.0)
    src = m.prior(1, seed=0)[0].expand(T, -1).clone()
    ed = path_editor(m, src, threaded=False)
    ax, p = ed.axes, ed.path
    ops = {'scale': (P.scale, (1.2,), dict(dims=0)), 'randomize': (P.randomize, (0.3,), dict(smooth_steps=2)),
           'draw': (P.set_curve, (0, [0.0, 1.0, -1.0]), {}), 'smooth': (P.smooth, (2,), {})}
    res = {f'edit_{k}_to_sound_ms': median_ms(lambda f=f, a=a, kw=kw: _decode(m, along_axes(m, p, f, *a, axes=ax, **kw)))
           for k, (f, a, kw) in ops.items()}
    res.update({
        'edit_scale_to_player_ms': median_ms(lambda: ed.scale(1.0, axis=0).sound),
        'edit_randomize_to_player_ms': median_ms(lambda: ed.randomize(0.1).sound),
        'edit_draw_to_player_ms': median_ms(lambda: ed.draw(0, [0.0, 1.0, -1.0]).sound),
        'decode_only_ms': median_ms(lambda: m.decode(src)),
    })
    s = m.decode(src)
    res['player_set_ms'] = median_ms(lambda: ed.player.set(s))
    pad = blend_pad(m, *m.prior(4, seed=1)[:, None].expand(4, T, -1).clone(), threaded=False)
    k = iter(range(10**6))
    res['pad_point_to_sound_ms'] = median_ms(lambda: _decode(m, blend_path(pad.corners, ((next(k) % 10) / 10, 0.3))[0]))
    res['pad_point_to_player_ms'] = median_ms(lambda: pad.at((next(k) % 10) / 10, 0.3).sound)
    res['pad_stroke_to_player_ms'] = median_ms(lambda: pad.stroke([[0, 1, 0], [0.5, 0.5, 300], [1, 0, 600]]).sound)
    res['sound_seconds'] = round(ed.sound.duration, 3)
    res['edit_to_sound_within_target'] = max(v for k2, v in res.items() if k2.endswith('_to_sound_ms')) <= 30
    out[name] = res
print(json.dumps(out, indent=1))
