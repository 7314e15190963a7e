"""The recorder in a real browser (JupyterLab + headless Chromium, the harness of browser.py), with Chromium's fake
microphone playing a real flute note from the built-in corpus (`--use-file-for-fake-audio-capture`). The test presses
the page's record button, waits, presses it again, and checks that the kernel received that note: a take of the
recorded length, at the flute's pitch, with the flute's spectrum. Skips without Chromium, like test_browser.py."""
import numpy as np
import pytest
import soundfile as sf

from browser import CHROMIUM_ARGS, SKIP_NO_CHROMIUM, find_chromium, lab, page, shot  # noqa: F401

pytestmark = [pytest.mark.xdist_group('browser'), pytest.mark.slow]

FLUTE_MIDI = 69          # the note the fake microphone plays: A4 (440 Hz)


def _flute():
    import latentplay as lp
    notes = lp.Corpus.builtin('gm-notes')
    return next(s for s in notes.sounds if s.meta.get('label') == 'Flute' and s.meta.get('pitch') == FLUTE_MIDI)


@pytest.fixture(scope='module')
def mic_file(tmp_path_factory):
    "The flute note as the 16-bit WAV file Chromium's fake microphone loops."
    s = _flute().resample(48000)
    p = tmp_path_factory.mktemp('mic') / 'flute.wav'
    sf.write(p, np.concatenate([s.audio, np.zeros(4800, np.float32)]), 48000, subtype='PCM_16')
    return p


@pytest.fixture(scope='module')
def chromium(mic_file):
    "This module's Chromium: the harness's, with a fake microphone that plays `mic_file` (no permission prompt)."
    exe = find_chromium()
    if exe is None: pytest.skip(SKIP_NO_CHROMIUM)
    from playwright.sync_api import sync_playwright
    args = CHROMIUM_ARGS + ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
                            f'--use-file-for-fake-audio-capture={mic_file}']
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, headless=True, args=args)
        try: yield browser
        finally: browser.close()


def _state(page):
    return page.evaluate("() => { const b = document.querySelector('.lp-rec-button'); return b ? b.textContent : null; }")


def test_record_button_sends_the_microphone_to_the_kernel(lab, page):
    nb = lab.open(page, 'record.ipynb', ["import numpy as np\nimport latentplay as lp\nfrom latentplay.features import f0_yin",
                                         "got = []\nrec = lp.record(seconds=10, on_take=got.append)\nrec"])
    button = page.locator('.lp-rec-button')
    button.wait_for(state='visible')
    assert _state(page) == '● record'
    button.click()
    page.wait_for_function("() => document.querySelector('.lp-rec-button').textContent.includes('stop')", timeout=20_000)
    assert nb.py('rec.view.state') == 'recording'
    page.wait_for_timeout(2000)
    shot(page, 'recording', '.lp-record')
    button.click()
    page.wait_for_function("() => document.querySelector('.lp-rec-button').textContent.includes('record')", timeout=30_000)
    for _ in range(60):                                   # the take arrives moments after the page has decoded it;
        if nb.py('len(got)') >= 1: break                  # on_take is the last thing the kernel does with it
        page.wait_for_timeout(500)
    dur, sr, n_got, peak, msg = nb.py('[rec.sound.duration, rec.sound.sr, len(got), rec.sound.peak, rec.view.message]')
    assert n_got == 1 and sr == 22050, (n_got, sr)
    assert 1.5 <= dur <= 4.0, f'a take of about 2 s, got {dur:.2f} s'
    assert peak > 0.01 and 'recorded' in msg, (peak, msg)

    # the kernel holds the flute: its pitch, where it is voiced, and its spectrum
    f0 = nb.py("(lambda f, p: float(np.median(f[p > 0.8])) if (p > 0.8).sum() > 5 else 0.0)"
               "(*[t.numpy() for t in f0_yin(rec.sound)])")
    assert abs(12 * np.log2(f0 / 440.0)) < 0.5, f'recorded pitch {f0:.1f} Hz, the flute plays 440 Hz'
    nb.run_code("def note(name): return min((s for s in lp.Corpus.builtin('gm-notes').sounds if s.meta['label'] == name),\n"
                f"                           key=lambda s: abs(s.meta['pitch'] - {FLUTE_MIDI}))\n"
                "def spectrum(s, n=2048):\n"
                "    fr = np.lib.stride_tricks.sliding_window_view(s.audio, n)[::n // 2] * np.hanning(n)\n"
                "    p = np.abs(np.fft.rfft(fr)) ** 2\n"
                "    loud = p.sum(1) > p.sum(1).max() / 100\n"
                "    return np.log(p[loud].mean(0)[:600] + 1e-10)\n"
                "def like(a, b): return float(np.corrcoef(spectrum(a), spectrum(b))[0, 1])")
    to_flute, to_trumpet, to_violin = nb.py("[like(rec.sound, note(n)) for n in ('Flute', 'Trumpet', 'Violin')]")
    assert to_flute > 0.9 and to_flute > max(to_trumpet, to_violin), \
        f'spectrum of the take against flute {to_flute:.3f}, trumpet {to_trumpet:.3f}, violin {to_violin:.3f}'

    # a cell cannot wait for a take (it would arrive only after the cell); it says so instead of hanging
    out = nb.run_code("try: rec.wait(1)\nexcept Exception as e: print(type(e).__name__, e)")
    assert 'cannot wait' in out, out

    # started from Python, as a script or OSC would: a second take
    nb.run_code("rec.start()")
    page.wait_for_function("() => document.querySelector('.lp-rec-button').textContent.includes('stop')", timeout=20_000)
    page.wait_for_timeout(1000)
    nb.run_code("rec.stop()")
    for _ in range(60):
        if nb.py('len(rec.takes)') >= 2: break
        page.wait_for_timeout(500)
    assert nb.py('[len(rec.takes), rec.sound.meta["take"]]') == [2, 2]


# -------------------------------------------------------------------------------------------------- transfer bench
TRANSFER_SETUP = ("import numpy as np\nimport latentplay as lp\nfrom latentplay.recorder import prepare_input\n"
                  "vq = lp.pretrained('gm-violin-vq')\n"
                  "choir = [s for s in lp.Corpus.builtin('gm-notes', progress=False).sounds if s.meta['label'] == 'Choir']")


def settle(nb):
    out = nb.py("[tr.wait(120), repr(tr.error)]", timeout=180)
    assert out == [True, 'None'], out


def test_transfer_bench_in_the_page(lab, page):
    "Choose an input in the page, hear A and B, then record a new input with the bench's own record button."
    from browser import audio_src, wait_audio_change, wait_synth
    root = '.lp-transfer'
    nb = lab.open(page, 'transfer.ipynb', [TRANSFER_SETUP, "tr = lp.transfer(vq, corpus=choir); tr"])
    page.locator(f'{root} .lp-input select').wait_for(state='visible', timeout=60_000)
    settle(nb)
    src0, renders0 = audio_src(page, f'{root} .lp-b'), nb.py('tr.renders')
    assert src0 and renders0 >= 1

    page.locator(f'{root} .lp-input select').select_option(index=3)          # the third choir note
    settle(nb)
    assert nb.py('tr.source is choir[2]') is True and nb.py('tr.renders') > renders0
    same = nb.py("bool(np.array_equal(tr.sound.audio, vq.transfer(prepare_input(choir[2], vq.sr)).audio))")
    assert same, 'the page got another sound than the model makes from that input'
    src1 = wait_audio_change(page, f'{root} .lp-b', src0)
    shot(page, 'chosen', root)

    page.locator(f'{root} .lp-ab button', has_text='A: input').click()       # A: the input plays, B stops
    wait_synth(page, f'{root} .lp-a', "d.playing === 'true'", timeout=20)
    wait_synth(page, f'{root} .lp-b', "d.playing === 'false'", timeout=20)
    page.wait_for_timeout(300)
    assert nb.py('[tr.ab.value, tr.input_player.synth.playing, tr.player.synth.playing]') == ['A', True, False]

    renders1 = nb.py('tr.renders')
    page.locator(f'{root} .lp-rec-button').click()                           # the fake microphone: the flute note
    page.wait_for_function("() => document.querySelector('.lp-transfer .lp-rec-button').textContent.includes('stop')", timeout=20_000)
    page.wait_for_timeout(1500)
    page.locator(f'{root} .lp-rec-button').click()
    for _ in range(60):
        if nb.py('len(tr.recorder.takes)') >= 1 and nb.py('tr.renders') > renders1: break
        page.wait_for_timeout(500)
    settle(nb)
    assert nb.py('[tr.source.meta.get("take"), tr.source.sr]') == [1, 22050]
    wait_audio_change(page, f'{root} .lp-b', src1)
    assert nb.py('bool(np.isfinite(tr.sound.audio).all()) and len(tr.sound) == len(tr.input)') is True
