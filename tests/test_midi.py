"""Patterns as General MIDI drum files: written one track per row on channel 10 with the rows' GM keys, read back
(from latentplay's files and from files another program wrote) quantised to the grid, bad files refused clearly."""
import os

import pretty_midi
import pytest

from latentplay.patterns import MIDI_MAX_BYTES, Pattern, gm_key, load_midi, save_midi
from latentplay.soundfont import GM_DRUMS


def test_round_trip(tmp_path):
    for p in [Pattern.from_strings({'kick': 'x..x..x.x.......', 'snare': '....x.......x..o', 'hihat': 'x.3.x.3.x.3.x.3.',
                                    'clap': '....x...', 'tom': '.......9'}, tempo=97.3, swing=0.4),
              Pattern.from_strings({'boom': 'x..x..', 'tss': '.x..x.', 'kick': 'x.....'}, tempo=140, steps_per_beat=3,
                                   beats_per_bar=2),
              Pattern.from_strings({'kick': 'x' + '.' * 46 + 'x'}, tempo=60, beats_per_bar=3)]:
        f = p.to_midi(tmp_path / 'p.mid')
        assert load_midi(f) == p == Pattern.from_midi(f), (p, load_midi(f))
        assert [x.name for x in tmp_path.iterdir()] == ['p.mid']                    # atomic: no temporary file left
    assert [gm_key(c) for c in ('kick', 'snare', 'hihat', 'clap', 'tom')] == [36, 38, 42, 39, 45]
    assert all(GM_DRUMS[gm_key(c)][1] == c for c in ('kick', 'snare', 'hihat', 'clap', 'tom', 'cymbal', 'shaker', 'wood'))


def test_the_file_is_general_midi_drums(tmp_path):
    p = Pattern.from_strings({'kick': 'x...x...', 'snare': '..o...x.', 'mine': 'x.x.x.x.'}, tempo=120, steps_per_beat=2)
    p.set('mine', 2, label='clap').set('kick', 4, length=2)
    m = pretty_midi.PrettyMIDI(str(save_midi(p, tmp_path / 'beat.midi')))
    assert [i.name for i in m.instruments] == ['kick', 'snare', 'mine'] and all(i.is_drum for i in m.instruments)
    kick, snare, mine = m.instruments
    assert [(n.pitch, n.velocity, round(n.start, 3), round(n.end, 3)) for n in kick.notes] == [(36, 127, 0.0, 0.25), (36, 127, 1.0, 1.5)]
    assert [(n.pitch, n.velocity) for n in snare.notes] == [(38, 64), (38, 127)]
    assert {n.pitch for n in mine.notes} == {35, 39}                  # a spare GM key for 'mine'; its clap cell plays the clap key
    assert abs(m.get_tempo_changes()[1][0] - 120) < 1e-6 and m.time_signature_changes[0].numerator == 4


def test_a_file_written_by_pretty_midi(tmp_path):
    "A drum file from another program: one 'Drums' track of many classes, humanised timing, a piano track, 100 BPM."
    m = pretty_midi.PrettyMIDI(initial_tempo=100)
    drums, piano = pretty_midi.Instrument(0, is_drum=True, name='Drums'), pretty_midi.Instrument(0, name='Piano')
    step = 60 / 100 / 4
    for s, key, vel in [(0, 36, 110), (8, 35, 90), (4, 38, 127), (12, 40, 64), *[(s, 42, 80) for s in range(0, 16, 2)], (14, 46, 100)]:
        t = s * step + (0.01 if s % 4 else -0.004 if s else 0.0)      # a little late or early, as played
        drums.notes.append(pretty_midi.Note(vel, key, max(t, 0.0), max(t, 0.0) + 0.05))
    piano.notes.append(pretty_midi.Note(100, 60, 0.0, 2.0))
    m.instruments += [piano, drums]
    m.write(str(tmp_path / 'theirs.mid'))
    p = load_midi(tmp_path / 'theirs.mid')
    assert p.names == ['kick', 'snare', 'hihat'] and p.n_steps == 16 and abs(p.tempo - 100) < 1e-3 and p.swing == 0
    assert p['kick'].steps == '9.......7.......'
    assert p['snare'].steps == '....x.......o...'
    assert p['hihat'].steps == '6.6.6.6.6.6.6.8.'
    assert p.cell('kick', 0) == {'velocity': 0.87}
    assert load_midi(tmp_path / 'theirs.mid', n_steps=8).names == ['kick', 'snare', 'hihat']
    assert load_midi(tmp_path / 'theirs.mid', n_steps=8)['snare'].steps == '....x...'   # later notes left out
    assert load_midi(tmp_path / 'theirs.mid', n_steps=64).n_steps == 64
    assert load_midi(tmp_path / 'theirs.mid', steps_per_beat=2)['hihat'].steps == '66666668'


def test_bad_files_are_refused(tmp_path):
    (tmp_path / 'notes.txt').write_text('not a MIDI file at all')
    with pytest.raises(ValueError, match='not a MIDI file'): load_midi(tmp_path / 'notes.txt')
    (tmp_path / 'cut.mid').write_bytes(b'MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\x00\x00\xff\xff\x90')
    with pytest.raises(ValueError, match='damaged MIDI'): load_midi(tmp_path / 'cut.mid')
    m = pretty_midi.PrettyMIDI()
    m.instruments.append(pretty_midi.Instrument(0, name='Piano')); m.instruments[0].notes.append(pretty_midi.Note(90, 60, 0, 1))
    m.write(str(tmp_path / 'piano.mid'))
    with pytest.raises(ValueError, match='no drum notes.*1 notes are pitched'): load_midi(tmp_path / 'piano.mid')
    pretty_midi.PrettyMIDI().write(str(tmp_path / 'empty.mid'))
    with pytest.raises(ValueError, match='no notes at all'): load_midi(tmp_path / 'empty.mid')
    with open(tmp_path / 'huge.mid', 'wb') as f: f.write(b'MThd'); f.truncate(MIDI_MAX_BYTES + 1)
    with pytest.raises(ValueError, match='too large'): load_midi(tmp_path / 'huge.mid')
    with pytest.raises(FileNotFoundError): load_midi(tmp_path / 'missing.mid')
    os.mkfifo(tmp_path / 'fifo.mid')
    with pytest.raises(ValueError, match='not a regular file'): load_midi(tmp_path / 'fifo.mid')
    long = Pattern(['kick'], n_steps=16); long.set('kick', 0, velocity=0.79)
    m = pretty_midi.PrettyMIDI(); d = pretty_midi.Instrument(0, is_drum=True)
    d.notes += [pretty_midi.Note(100, 36, 0, 0.1), pretty_midi.Note(100, 36, 3000.0, 3000.1)]
    m.instruments.append(d); m.write(str(tmp_path / 'long.mid'))
    with pytest.raises(ValueError, match='long.mid.*24016 steps.*n_steps='): load_midi(tmp_path / 'long.mid')   # 24016 steps (to the end of the bar): too many
    assert load_midi(tmp_path / 'long.mid', n_steps=16) == long


def test_writes_never_replace_other_files(tmp_path):
    p = Pattern.from_strings({'kick': 'x...'})
    for name, data in (('beat.json', b'{"format": "latentplay-pattern"}'), ('beat.wav', b'RIFF....WAVE')):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ValueError, match=r'\.mid'): p.to_midi(tmp_path / name)
        assert (tmp_path / name).read_bytes() == data
    (tmp_path / 'song.mid').write_bytes(b'RIFF....WAVE')              # a mis-named file: kept
    with pytest.raises(ValueError, match='never replaced'): p.to_midi(tmp_path / 'song.mid')
    assert (tmp_path / 'song.mid').read_bytes() == b'RIFF....WAVE'
    p.to_midi(tmp_path / 'old.mid'); Pattern.from_strings({'snare': 'x.x.'}).to_midi(tmp_path / 'old.mid')   # a MIDI file: replaced
    assert load_midi(tmp_path / 'old.mid').names == ['snare']
    with pytest.raises(TypeError, match='Pattern'): save_midi('x...', tmp_path / 'x.mid')
