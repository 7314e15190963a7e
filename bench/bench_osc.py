"""Latency of OSC control on one CPU thread (medians over repeated messages, after a warm-up), with a real python-osc
client on loopback talking to a real bridge:

- OSC message -> new 1 s sound ready: a `/latentplay/coords` message sent by the client until the bridge holds the
  sound of the new point (`ready`), and until the client has received the `/latentplay/rendered` answer to a
  `/latentplay/render` sent right behind it (`round_trip`: what a patch can observe); for the bridge of a model and for
  the bridge of `lp.sliders` (in script mode: the widget renders in the bridge's worker thread), each beside the same
  change made by a script without OSC (`osc_overhead_ms`: the difference of the medians);
- a burst of 1,000 `/latentplay/coords` messages: how long until the last one's sound is ready, and how many renders
  the bridge made for them (renders are coalesced: newest wins).

Prints JSON. Usage: python bench/bench_osc.py [--model gm-drums] [--repeats 50]"""
import argparse, json, time
import numpy as np
import torch
from pythonosc.udp_client import SimpleUDPClient

from latentplay.models import pretrained
from latentplay.oscbridge import osc
from latentplay.widgets import sliders


def summary(ts):
    ms = 1000 * np.asarray(ts)
    return dict(median_ms=round(float(np.median(ms)), 2), p90_ms=round(float(np.percentile(ms, 90)), 2), n=len(ms))


def until(cond, timeout=30.0):
    "Spin (yielding the GIL) until `cond()`; the time it took."
    t0, end = time.perf_counter(), time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end: raise TimeoutError('the bridge did not answer')
        time.sleep(0.0002)
    return time.perf_counter() - t0


def message_to_sound(bridge, points):
    "Per point: seconds from sending `/latentplay/coords` to the new sound being ready in the bridge, and to the answer."
    c = SimpleUDPClient('127.0.0.1', bridge.port)
    ready, trip = [], []
    for i, p in enumerate(points):
        before = bridge.sound
        t0 = time.perf_counter()
        c.send_message('/latentplay/coords', [float(v) for v in p])
        until(lambda: bridge.sound is not before)
        ready.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        c.send_message('/latentplay/coords', [float(v) for v in -p])
        c.send_message('/latentplay/render', [])
        answer = c.receive(30)
        assert answer.startswith(b'/latentplay/rendered'), answer[:60]
        trip.append(time.perf_counter() - t0)
    return ready[1:], trip[1:]                                     # the first of each is the warm-up


def burst(bridge, n=1000):
    c = SimpleUDPClient('127.0.0.1', bridge.port)
    bridge.wait(30)
    got, applied = bridge.received, bridge.applied
    t0 = time.perf_counter()
    for i in range(n): c.send_message('/latentplay/coords', [2.0 * i / (n - 1), 0.5])
    sent = time.perf_counter() - t0
    until(lambda: bridge.received >= got + n)
    bridge.wait(30)
    total = time.perf_counter() - t0
    assert bridge.target.coords[:2] == [2.0, 0.5]
    return dict(messages=n, send_ms=round(1000 * sent, 1), last_sound_ready_after_last_send_ms=round(1000 * (total - sent), 1),
                total_ms=round(1000 * total, 1), renders=bridge.applied - applied, received=bridge.received - got)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--model', default='gm-drums')
    ap.add_argument('--repeats', type=int, default=50)
    a = ap.parse_args()
    torch.set_num_threads(1)
    m = pretrained(a.model)
    rng = np.random.default_rng(0)
    points = rng.uniform(-2.5, 2.5, (a.repeats + 1, 4))
    out = dict(model=a.model, threads=1, seconds=1.0, target_ms=30)
    with osc(m, port=0, seconds=1.0) as b:
        b.wait(30)
        ready, trip = message_to_sound(b, points)
        alone = []
        for p in points:                                           # the same state change without OSC, in this thread
            t0 = time.perf_counter(); b.target.apply(dict(coords=[float(v) for v in p])); alone.append(time.perf_counter() - t0)
        out['model_bridge'] = dict(message_to_1s_sound_ready=summary(ready), round_trip_to_rendered_answer=summary(trip),
                                   same_change_without_osc=summary(alone[1:]),
                                   osc_overhead_ms=round(summary(ready)['median_ms'] - summary(alone[1:])['median_ms'], 2))
        out['model_bridge']['burst'] = burst(b)
    w = sliders(m, seconds=1.0, threaded=False, autoplay=False)
    alone = []
    for p in points:                                               # the widget's own render path, without OSC
        t0 = time.perf_counter(); w.set(coords=[float(v) for v in p]); alone.append(time.perf_counter() - t0)
    with osc(w, port=0) as b:
        ready, trip = message_to_sound(b, points)
        out['sliders_bridge'] = dict(message_to_1s_sound_ready=summary(ready), round_trip_to_rendered_answer=summary(trip),
                                     same_move_by_script_without_osc=summary(alone[1:]),
                                     osc_overhead_ms=round(summary(ready)['median_ms'] - summary(alone[1:])['median_ms'], 2))
        out['sliders_bridge']['burst'] = burst(b)
    print(json.dumps(out, indent=1))


if __name__ == '__main__': main()
