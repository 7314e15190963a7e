"""OSC as a patch or a controller uses it: a real python-osc client on loopback talks to a real bridge driving the
shipped drum model or a real widget (in script mode); the answers come back over UDP. Bad messages are answered with
/latentplay/error and change nothing; a burst of 1,000 messages leaves no backlog; `latentplay osc` serves from a
terminal and ends cleanly on Ctrl-C."""
import math
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip('pythonosc')
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_message import OscMessage
from pythonosc.osc_server import BlockingOSCUDPServer
from pythonosc.udp_client import SimpleUDPClient

from latentplay.oscbridge import osc, OSCBridge, ERROR


def ask(bridge, client, address, *args, wait=0.05):
    "Send one message, wait until the bridge has dealt with it, and collect the answers that came back."
    n = bridge.received
    client.send_message(address, list(args))
    end = time.monotonic() + 10
    while bridge.received == n and time.monotonic() < end: time.sleep(0.001)
    assert bridge.wait(60), 'the bridge did not finish in 60 s'
    return [(m.address, m.params) for m in client.get_messages(wait)]


@pytest.fixture
def bridge(drums):
    with osc(drums, port=0) as b: yield b, SimpleUDPClient('127.0.0.1', b.port)


def test_messages_change_the_model_state(bridge, drums):
    b, c = bridge
    assert b.wait(30) and b.sound is not None                       # the first sound is made at once
    assert ask(b, c, '/latentplay/coords', 1.5, -0.5) == []         # settings are not answered
    assert ask(b, c, '/latentplay/shape', 'line') == []
    assert ask(b, c, '/latentplay/seconds', 0.5) == []
    assert b.target.coords[:3] == [1.5, -0.5, 0.0] and (b.target.shape, b.target.seconds) == ('line', 0.5)
    assert abs(b.sound.duration - 0.5) < 0.03
    assert ask(b, c, '/latentplay/coords') == [('/latentplay/coords', [1.5, -0.5] + [0.0] * 6)]
    (address, params), = ask(b, c, '/latentplay/descriptors')
    d = dict(zip(params[::2], params[1::2]))
    assert address == '/latentplay/descriptors' and {'loudness', 'centroid', 'flatness'} <= set(d)
    assert all(isinstance(v, float) and math.isfinite(v) for v in d.values())
    ask(b, c, '/latentplay/generate', 'snare', 5)
    assert b.target.state['hit'] == dict(label='snare', seed=5) and b.sound.duration > 0.5


BAD = [('/latentplay/nope', [], 'unknown address'), ('/latentplay/coords', [float('nan')], 'finite'),
       ('/latentplay/coords', [float('inf'), 0.0], 'finite'), ('/latentplay/coords', ['up'], 'numbers'),
       ('/latentplay/coords', [True], 'numbers'), ('/latentplay/coords', [b'\x00\x01'], 'numbers'),
       ('/latentplay/coords', [0.1] * 9, '1 to 8'), ('/latentplay/coords', [3.5], '[-3, 3]'),
       ('/latentplay/seconds', [0.0], '[0.1, 10]'), ('/latentplay/seconds', [1.0, 2.0], '1 number'),
       ('/latentplay/shape', ['circle'], "unknown 'circle'"), ('/latentplay/shape', [1], 'one word'),
       ('/latentplay/label', ['tabla'], "unknown 'tabla'"), ('/latentplay/generate', ['tabla'], "unknown 'tabla'"),
       ('/latentplay/temperature', [-1.0], '[0, 2]'), ('/latentplay/random', [1.5], 'whole'),
       ('/latentplay/render', [1], 'no arguments'), ('/latentplay/cell', [0, 0, 1.0], 'unknown address')]

@pytest.mark.parametrize('address,args,words', BAD, ids=[f'{a} {r}' for a, r, _ in BAD])
def test_bad_messages_are_answered_and_change_nothing(bridge, address, args, words):
    b, c = bridge
    b.wait(30)
    state, sound, applied = dict(b.target.state), b.sound, b.applied
    (to, (text,)), = ask(b, c, address, *args)
    assert to == ERROR and words in text and text.startswith(address), text
    assert (b.target.state, b.sound, b.applied) == (state, sound, applied)
    assert b.refused == 1


def test_a_burst_leaves_no_backlog(bridge):
    "1,000 messages as fast as a client sends them: shortly after, the state is the last message's and the bridge is idle."
    b, c = bridge
    b.wait(30)
    n, r = b.received, b.applied
    for i in range(1000): c.send_message('/latentplay/coords', [3 * i / 999, -1.0])
    end = time.monotonic() + 20
    while b.received < n + 1000 and time.monotonic() < end: time.sleep(0.002)
    assert b.received == n + 1000, f'{b.received - n} of 1000 messages arrived'
    assert b.wait(10)                                                # nothing waits: no backlog
    assert b.target.coords[:2] == [3.0, -1.0]
    assert b.applied - r < 200, f'{b.applied - r} renders for 1000 messages: renders are not coalesced'
    (_, params), = ask(b, c, '/latentplay/coords')                   # answered at once, after the burst
    assert params[:2] == [3.0, -1.0] and b.refused == 0


def test_answers_go_to_a_listening_server_at_reply_port(drums, tmp_path):
    "A patch that listens on another port than it sends from (Max's [udpreceive]): answers and renders reach it."
    heard = []
    d = Dispatcher()
    d.set_default_handler(lambda address, *args: heard.append((address, args)))
    listener = BlockingOSCUDPServer(('127.0.0.1', 0), d)
    listener.timeout = 10
    try:
        with osc(drums, port=0, reply_port=listener.server_address[1], out_dir=tmp_path / 'renders') as b:
            c = SimpleUDPClient('127.0.0.1', b.port)
            c.send_message('/latentplay/coords', [0.5])
            c.send_message('/latentplay/render', [])
            c.send_message('/latentplay/render', [])
            c.send_message('/latentplay/seconds', ['long'])
            for _ in range(3): listener.handle_request()
    finally: listener.server_close()
    (err,), = [args for a, args in heard if a == ERROR]              # a refusal is answered at once, before the renders
    (p1, s1), (p2, _) = [args for a, args in heard if a == '/latentplay/rendered']
    assert 'numbers' in err
    assert [Path(p).name for p in (p1, p2)] == ['osc-0001.wav', 'osc-0002.wav'] and Path(p1).stat().st_size > 10_000
    assert abs(s1 - 1.0) < 0.03


def test_sliders_move_with_the_messages(drums):
    from latentplay.widgets import sliders
    w = sliders(drums, autoplay=False, n_axes=4)
    with osc(w, port=0) as b:
        c = SimpleUDPClient('127.0.0.1', b.port)
        ask(b, c, '/latentplay/coords', 2.0, -1.0)
        ask(b, c, '/latentplay/shape', 'loop')
        assert (w.coords, w.shape) == ([2.0, -1.0, 0.0, 0.0], 'loop')
        w.set(coords=[0.5])                                          # the notebook moves the slider: OSC sees it
        assert ask(b, c, '/latentplay/coords') == [('/latentplay/coords', [0.5, 0.0, 0.0, 0.0])]
        before = (w.coords, w.sound)
        for bad in (('/latentplay/coords', 1.0, 2.0, 3.0, 4.0, 5.0), ('/latentplay/extent', 9.0), ('/latentplay/label', 'tabla'),
                    ('/latentplay/undo',)):
            (to, (text,)), = ask(b, c, *bad)
            assert to == ERROR, text
        assert (w.coords, w.sound) == before
        ask(b, c, '/latentplay/random', 3)
        assert w.coords != before[0]


def test_sequencer_cells_tempo_and_undo(drums):
    from latentplay.widgets import sequencer
    q = sequencer(drums, autoplay=False)
    with osc(q, port=0) as b:
        c = SimpleUDPClient('127.0.0.1', b.port)
        for s in (0, 4, 8, 12): c.send_message('/latentplay/cell', [0, s, 1.0])
        c.send_message('/latentplay/cell', ['snare', 4, 0.6])
        ask(b, c, '/latentplay/tempo', 96.0)
        assert q.pattern.tracks[0].steps == 'x...x...x...x...' and q.pattern.cell('snare', 4)['velocity'] == pytest.approx(0.6)
        assert q.rendered_pattern == q.pattern and q.pattern.tempo == 96.0
        kept = q.pattern.copy()
        for bad in (('/latentplay/cell', 0, 16, 1.0), ('/latentplay/cell', 'cowbell', 0, 1.0), ('/latentplay/cell', 0, 0, 1.5),
                    ('/latentplay/cell', 0, 0), ('/latentplay/tempo', float('nan')), ('/latentplay/swing', 0.9),
                    ('/latentplay/coords', 1.0)):
            (to, (text,)), = ask(b, c, *bad)
            assert to == ERROR, text
        assert q.pattern == kept
        ask(b, c, '/latentplay/clear', 0)
        assert q.pattern.tracks[0].steps == '.' * 16
        ask(b, c, '/latentplay/undo')
        assert q.pattern == kept


def test_the_map_taps_plays_and_draws(drums):
    from latentplay.widgets import latent_map
    from latentplay.maps import from_axes
    hits = [drums.generate(label=l, seed=i) for i, l in enumerate(drums.labels * 2)]   # a small corpus of real model sounds
    m = latent_map(drums, hits, autoplay=False)
    with osc(m, port=0) as b:
        c = SimpleUDPClient('127.0.0.1', b.port)
        ask(b, c, '/latentplay/recording', 2)
        assert m.selected == 2
        ask(b, c, '/latentplay/coords', 1.0, 0.5)
        assert (m.map.project(m.point) - m.map.project(from_axes(drums, [1.0, 0.5]))).abs().max() < 1e-3
        ask(b, c, '/latentplay/draw', 0.0, 0.0, 1.0, 1.0)
        assert m.path is not None and m.path.shape[-1] == drums.latent_dim
        (to, (text,)), = ask(b, c, '/latentplay/draw', 0.0, 0.0, 1.0, 1.0, 2.0)
        assert to == ERROR and 'odd' in text


def test_stop_frees_the_port_and_a_taken_port_is_refused(drums):
    b = osc(drums, port=0)
    with pytest.raises(ValueError, match='is taken'): osc(drums, port=b.port)
    assert 'listening on 127.0.0.1' in repr(b)
    assert b.stop() and not b.running and 'stopped' in repr(b)
    osc(drums, port=b.port).stop()                                  # free again
    with pytest.raises(TypeError, match='lp.osc drives a model or a widget'): osc(object(), port=0)
    with pytest.raises(ValueError, match='cannot listen on nowhere.invalid'): osc(drums, port=0, host='nowhere.invalid')
    with pytest.raises(ValueError, match='port must be a whole number from 0 to 65535'): osc(drums, port=70000)


def test_lp_osc_is_the_function(drums):
    "`lp.osc` starts a bridge, whether or not its module (`latentplay.oscbridge`) was imported first."
    import latentplay as lp
    import latentplay.oscbridge  # noqa: F401
    with lp.osc(drums, port=0) as b: assert isinstance(b, OSCBridge)


def test_the_command_serves_until_ctrl_c(drums):
    "`latentplay osc`: prints where it listens and its addresses, answers /latentplay/descriptors, ends cleanly on SIGINT."
    import latentplay
    model = Path(latentplay.__file__).parent / 'pretrained' / 'gm-drums.lp'
    p = subprocess.Popen([sys.executable, '-m', 'latentplay.cli', 'osc', str(model), '--port', '0'],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))   # Ctrl-C as in a terminal, even when pytest ignores it
    try:
        first = p.stdout.readline()
        port = re.search(r'listening on 127\.0\.0\.1:(\d+)', first)
        assert port, first + p.stderr.read()
        c = SimpleUDPClient('127.0.0.1', int(port.group(1)))
        c.send_message('/latentplay/descriptors', [])
        m = OscMessage(c.receive(60))
        assert m.address == '/latentplay/descriptors' and m.params[0] == 'loudness'
        p.send_signal(signal.SIGINT)
        p.wait(30)
        out, err = p.stdout.read(), p.stderr.read()                  # (what follows the first line, read through its buffer)
    finally: p.kill()
    assert (p.returncode, err) == (0, ''), err
    assert '/latentplay/coords' in out and 'stopped after 1 messages' in out


def test_python_ends_cleanly_with_a_bridge_running(tmp_path):
    "A script that leaves a bridge running, with messages still arriving, ends at once and cleanly (status 0, no stderr)."
    code = """
from latentplay.models import pretrained
from latentplay.oscbridge import osc
from pythonosc.udp_client import SimpleUDPClient
b = osc(pretrained('gm-drums'), port=0)
c = SimpleUDPClient('127.0.0.1', b.port)
for i in range(200): c.send_message('/latentplay/coords', [i / 100, 1.0])
print(b.port)
"""
    r = subprocess.run([sys.executable, '-c', code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert (r.returncode, r.stderr) == (0, ''), r.stderr[-2000:]
    assert r.stdout.strip().isdigit()


def test_bundles_are_applied_on_arrival(bridge):
    "A bundle time-tagged an hour ahead is applied at once, message by message: no time tag can stall the server."
    from pythonosc.osc_bundle_builder import OscBundleBuilder
    from pythonosc.osc_message_builder import OscMessageBuilder
    b, c = bridge
    bundle = OscBundleBuilder(time.time() + 3600)
    for address, args in (('/latentplay/coords', [0.25, 0.75]), ('/latentplay/shape', ['loop']), ('/latentplay/seconds', [-1.0])):
        m = OscMessageBuilder(address)
        for a in args: m.add_arg(a)
        bundle.add_content(m.build())
    c.send(bundle.build())
    (to, (text,)), = ask(b, c, '/latentplay/coords', 0.25, 0.75)     # (the same point again, to wait on)
    assert to == ERROR and text.startswith('/latentplay/seconds')
    assert (b.target.coords[:2], b.target.shape, b.target.seconds) == ([0.25, 0.75], 'loop', 1.0)


def test_conditions_have_addresses():
    "A note model's pitch, instrument and style each get an address, for the model and for its sliders; bad values are answered."
    import numpy as np
    import latentplay as lp
    from latentplay.widgets import sliders
    nm = lp.pretrained('gm-techniques-notes')
    with osc(nm, port=0) as b:
        c = SimpleUDPClient('127.0.0.1', b.port)
        assert b.wait(60)
        ask(b, c, '/latentplay/pitch', 64.0)
        ask(b, c, '/latentplay/instrument', 'Violin', 0.75, 'Trumpet', 0.25)
        assert b.target.state['conditions'] == {'pitch': 64, 'instrument': {'Violin': 0.75, 'Trumpet': 0.25}}
        assert ask(b, c, '/latentplay/pitch') == [('/latentplay/pitch', [64.0])]
        z = lp.maps.from_axes(nm, b.target.coords, axes=b.target.axes)
        assert np.array_equal(b.sound.audio, nm.decode(z[None], pitch=64, instrument={'Violin': 0.75, 'Trumpet': 0.25}).audio)
        for bad in (('/latentplay/pitch', 500.0), ('/latentplay/instrument', 'Kazoo'), ('/latentplay/style', 'Violin')):
            (addr, words), = ask(b, c, *bad)
            assert addr == '/latentplay/error' and bad[0] in words[0], (bad, words)
    w = sliders(nm, autoplay=False)
    with osc(w, port=0) as b:
        c = SimpleUDPClient('127.0.0.1', b.port)
        ask(b, c, '/latentplay/style', 'pizzicato')
        ask(b, c, '/latentplay/pitch', 62.0)
        assert w.conditions['style'] == 'pizzicato' and w.conditions['pitch'] == 62
        assert ask(b, c, '/latentplay/style') == [('/latentplay/style', ['pizzicato'])]
