#!/usr/bin/env python3
"""Generates Underscore's free-licensed demo scene (CC0-1.0): dialogue, music and ambience.

Everything is made here from nothing but code and a speech synthesiser, so the whole scene is
ours to license (see CREDITS.md):

  dialogue.wav  mono, 48 kHz, 16-bit: two synthetic speakers (espeak-ng) trading four lines,
                a faint room tone and two soft synthetic breaths between the lines
  music.wav     stereo, 48 kHz, 16-bit: a 96 BPM D-minor cue (Dm-Bb-F-C), detuned-saw pad, bass,
                arpeggio and synthesised drums, loud enough to mask the voice when not ducked
  ambience.wav  stereo, 48 kHz, 16-bit: night street in light rain (rain hiss, drips, distant
                traffic rumble, one passing car)
  truth.json    speech intervals and phrases (same schema as the development material's
                ground_truth.json), breath events, levels

Requirements
  Debian:  apt-get install -y espeak-ng          (tested with espeak-ng 1.51+dfsg-10+deb12u2)
  PyPI:    pip install numpy scipy               (tested with numpy 2.4, scipy 1.17)

Regenerate (from the repository root):
  python3 demo/make_demo.py            # writes demo/{dialogue,music,ambience}.wav, demo/truth.json
  python3 demo/make_demo.py --out DIR  # somewhere else

All randomness uses a fixed seed; espeak-ng is deterministic for a given version, and the speech
intervals in truth.json are measured from the rendered audio, so they always match the files.
The exact espeak-ng command line for every line of dialogue is printed and stored in truth.json.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from scipy.io import wavfile
from scipy.signal import butter, fftconvolve, resample_poly, sosfilt

SR = 48000
DURATION_S = 25.0
N = int(SR * DURATION_S)
SEED = 20240607

# Target levels (dBFS RMS). Dialogue: RMS over its speech intervals.
DIALOGUE_SPEECH_RMS_DBFS = -24.0
MUSIC_RMS_DBFS = -20.0
AMBIENCE_RMS_DBFS = -35.0
ROOM_TONE_RMS_DBFS = -64.0
BREATH_RMS_DBFS = -46.0

# Two speakers. Plain espeak-ng voices (the voice data ships with espeak-ng under GPL-3;
# its output is not covered by that licence). MBROLA voices are avoided: their licence is
# not free.
VOICE_A = ["-v", "en-us+m3", "-s", "150", "-p", "42"]
VOICE_B = ["-v", "en-us+f3", "-s", "160", "-p", "55"]

# (speaker voice args, text, gap in seconds before this line starts, breath before it?)
LINES = [
    (VOICE_A, "Did you hear that? Someone left the lights on, down at the old station.", 1.6, False),
    (VOICE_B, "It's probably the night crew. They never switch anything off.", 1.2, True),
    (VOICE_A, "Then why is the door locked from the inside?", 0.7, False),
    (VOICE_B, "Stay here. I'll go and take a look.", 2.4, True),
]


def db(x):
    return 20 * np.log10(max(x, 1e-12))


def rms(x):
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def bandpass(x, lo, hi, order=2):
    sos = butter(order, [lo, hi], btype="bandpass", fs=SR, output="sos")
    return sosfilt(sos, x, axis=0)


def lowpass(x, f, order=2):
    return sosfilt(butter(order, f, btype="lowpass", fs=SR, output="sos"), x, axis=0)


def highpass(x, f, order=2):
    return sosfilt(butter(order, f, btype="highpass", fs=SR, output="sos"), x, axis=0)


def pink(rng, n):
    """Pink-ish noise (1/f power) by spectral shaping of white noise."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / SR)
    f[0] = f[1]
    x = np.fft.irfft(spec / np.sqrt(f), n)
    return x / rms(x)


def frame_db(x, hop=480):
    """Energy per 10 ms frame in dB."""
    n = len(x) // hop
    e = np.mean(np.square(x[: n * hop].reshape(n, hop), dtype=np.float64), axis=1)
    return 10 * np.log10(e + 1e-20)


def to_int16(x):
    return np.clip(np.round(x * 32767), -32768, 32767).astype(np.int16)


# ------------------------------------------------------------------------------------------------
# Dialogue


def synth_line(voice, text, tmp):
    path = os.path.join(tmp, "line.wav")
    cmd = ["espeak-ng"] + voice + ["-w", path, text]
    subprocess.run(cmd, check=True)
    sr, x = wavfile.read(path)
    x = x.astype(np.float64) / 32768.0
    if x.ndim == 2:
        x = x.mean(axis=1)
    # espeak-ng writes 22050 Hz; 48000/22050 = 320/147
    g = np.gcd(SR, sr)
    x = resample_poly(x, SR // g, sr // g)
    # trim to the active part with a 30 ms pad (10 ms frames above peak-38 dB)
    fdb = frame_db(x)
    act = np.nonzero(fdb > fdb.max() - 38)[0]
    a = max(0, act[0] * 480 - int(0.03 * SR))
    b = min(len(x), (act[-1] + 1) * 480 + int(0.03 * SR))
    return x[a:b], " ".join(cmd[:-3] + ["-w", "OUT.wav", repr(text)])


def voice_eq(x):
    """Take the edge off espeak's buzz: high-pass 90 Hz, gentle low-pass 7 kHz."""
    return lowpass(highpass(x, 90), 7000, order=1)


def small_room(rng, x):
    """A short, dry room (0.3 s) mixed well below the direct sound."""
    t = np.arange(int(0.3 * SR)) / SR
    ir = rng.standard_normal(len(t)) * np.exp(-t / 0.05)
    ir = lowpass(ir, 5000)
    ir /= np.sqrt(np.sum(ir ** 2))
    wet = fftconvolve(x, ir)[: len(x)]
    return x + 0.12 * wet


def breath(rng, dur):
    n = int(dur * SR)
    x = bandpass(rng.standard_normal(n), 500, 3500)
    t = np.linspace(0, 1, n)
    env = np.sin(np.pi * t) ** 2 * (0.6 + 0.4 * t)  # swells, slightly louder at the end
    return x * env


def make_dialogue(rng, tmp):
    dry = np.zeros(N)
    phrases, breaths, cmds = [], [], []
    t = 0.0
    for voice, text, gap, has_breath in LINES:
        x, cmd = synth_line(voice, text, tmp)
        cmds.append(cmd)
        x = voice_eq(x)
        start = t + gap
        i0 = int(round(start * SR))
        dry[i0:i0 + len(x)] += x
        # measure the phrase from its own audio: first/last active 10 ms frame, internal gaps
        fdb = frame_db(x)
        active = fdb > fdb.max() - 38
        idx = np.nonzero(active)[0]
        p_start = start + idx[0] * 0.01
        p_end = start + (idx[-1] + 1) * 0.01
        gaps, k = [], idx[0]
        while k <= idx[-1]:
            if not active[k]:
                j = k
                while not active[j]:
                    j += 1
                if (j - k) * 0.01 >= 0.06:
                    gaps.append([round(float(start + k * 0.01), 3), round(float(start + j * 0.01), 3)])
                k = j
            k += 1
        phrases.append({
            "start": round(float(p_start), 3), "end": round(float(p_end), 3), "text": text,
            "voice": " ".join(voice), "internal_gaps": gaps,
        })
        if has_breath:
            bd = 0.38
            b0 = p_start - 0.15 - bd  # ends 150 ms before the line
            breaths.append((b0, bd))
        t = start + len(x) / SR
    # speech intervals: phrases split at their internal gaps
    intervals = []
    for p in phrases:
        s = p["start"]
        for g0, g1 in p["internal_gaps"]:
            intervals.append([round(float(s), 3), g0])
            s = g1
        intervals.append([round(float(s), 3), p["end"]])

    # level: speech RMS over the speech intervals
    mask = np.zeros(N, bool)
    for s, e in intervals:
        mask[int(s * SR):int(e * SR)] = True
    gain = 10 ** (DIALOGUE_SPEECH_RMS_DBFS / 20) / rms(dry[mask])
    speech = small_room(rng, dry * gain)

    # breaths and room tone
    extras = np.zeros(N)
    events = []
    for b0, bd in breaths:
        b = breath(rng, bd)
        b *= 10 ** (BREATH_RMS_DBFS / 20) / rms(b)
        i0 = int(round(b0 * SR))
        extras[i0:i0 + len(b)] += b
        events.append({"type": "breath(synthetic)", "start": round(b0, 3),
                       "end": round(b0 + bd, 3), "rms_dbfs": BREATH_RMS_DBFS})
    room = lowpass(pink(rng, N), 4000)
    room *= 10 ** (ROOM_TONE_RMS_DBFS / 20) / rms(room)
    events.insert(0, {"type": "room_tone(synthetic)", "start": 0.0, "end": DURATION_S,
                      "rms_dbfs": ROOM_TONE_RMS_DBFS})
    out = speech + extras + room
    return out, phrases, intervals, events, cmds


# ------------------------------------------------------------------------------------------------
# Music: 96 BPM, D minor, Dm - Bb - F - C


BPM = 96
BEAT = 60 / BPM
BAR = 4 * BEAT  # 2.5 s, so 10 bars = 25 s


def midi_hz(m):
    return 440.0 * 2 ** ((m - 69) / 12)


# chord: (pad voicing, bass root, arpeggio tones)  (MIDI note numbers)
CHORDS = {
    "Dm": ([62, 65, 69], 38, [74, 77, 81, 77]),
    "Bb": ([62, 65, 70], 34, [74, 77, 82, 77]),
    "F": ([60, 65, 69], 41, [72, 77, 81, 77]),
    "C": ([60, 64, 67], 36, [72, 76, 79, 76]),
}
PROGRESSION = ["Dm", "Bb", "F", "C", "Dm", "Bb", "F", "C", "Bb", "Dm"]


def saw(freq, t, phase, nyq_frac=0.45):
    """Band-limited sawtooth by additive synthesis."""
    x = np.zeros_like(t)
    k = 1
    while k * freq < SR * nyq_frac and k <= 60:
        x += np.sin(2 * np.pi * k * freq * t + k * phase) / k
        k += 1
    return x * (2 / np.pi)


def adsr(n, a, d, s, r):
    """Envelope over n samples: attack a s, decay d s to level s, release r s at the end."""
    env = np.full(n, s, float)
    na, nd, nr = int(a * SR), int(d * SR), int(r * SR)
    na = min(na, n)
    env[:na] = np.linspace(0, 1, na, endpoint=False)
    nd = min(nd, n - na)
    env[na:na + nd] = np.linspace(1, s, nd, endpoint=False)
    nr = min(nr, n)
    env[n - nr:] *= np.linspace(1, 0, nr)
    return env


def place(buf, x, start_s, pan):
    """Adds mono x to stereo buf at start_s with constant-power pan (-1 left .. 1 right)."""
    i0 = int(round(start_s * SR))
    if i0 >= len(buf):
        return
    x = x[: len(buf) - i0]
    th = (pan + 1) * np.pi / 4
    buf[i0:i0 + len(x), 0] += np.cos(th) * x
    buf[i0:i0 + len(x), 1] += np.sin(th) * x


def kick(dur=0.35):
    t = np.arange(int(dur * SR)) / SR
    f = 45 + 90 * np.exp(-t / 0.03)
    ph = 2 * np.pi * np.cumsum(f) / SR
    return np.sin(ph) * np.exp(-t / 0.12)


def snare(rng, dur=0.25):
    t = np.arange(int(dur * SR)) / SR
    noise = bandpass(rng.standard_normal(len(t)), 1200, 7000) * np.exp(-t / 0.06)
    body = np.sin(2 * np.pi * 190 * t) * np.exp(-t / 0.04)
    return 0.8 * noise + 0.5 * body


def hat(rng, dur=0.06):
    t = np.arange(int(dur * SR)) / SR
    return highpass(rng.standard_normal(len(t)), 7000, order=4) * np.exp(-t / 0.015)


def stereo_reverb(rng, x, rt60=1.8, mix=0.22):
    n = int(rt60 * SR)
    t = np.arange(n) / SR
    env = np.exp(-6.91 * t / rt60)
    ir = np.stack([lowpass(rng.standard_normal(n), 6000) * env for _ in range(2)], axis=1)
    ir[: int(0.012 * SR)] = 0  # a little pre-delay
    ir /= np.sqrt(np.sum(ir ** 2, axis=0))
    wet = np.stack([fftconvolve(x[:, c], ir[:, c])[: len(x)] for c in range(2)], axis=1)
    return x + mix * wet


def make_music(rng):
    buf = np.zeros((N, 2))
    pad_bus = np.zeros((N, 2))
    last = len(PROGRESSION) - 1
    for bar, name in enumerate(PROGRESSION):
        voicing, root, arp = CHORDS[name]
        t0 = bar * BAR
        final = bar == last
        # pad: three detuned saws per note, slow attack, overlapping release
        dur = BAR + (0.0 if final else 0.5)
        n = int(dur * SR)
        t = np.arange(n) / SR
        for i, m in enumerate(voicing):
            for det, pan in ((-8, -0.7), (0, 0.0), (7, 0.7)):
                f = midi_hz(m) * 2 ** (det / 1200)
                x = saw(f, t, rng.uniform(0, 2 * np.pi), nyq_frac=0.12)
                env = adsr(n, 0.35, 0.8, 0.8, 1.6 if final else 0.5)
                place(pad_bus, 0.16 * x * env, t0, pan * (0.6 + 0.2 * i))
        # bass: root on beats 1, 2.5 and 3 (a little syncopation), octave on 4
        for beat, m, length in ((0, root, 1.3), (1.5, root, 0.5), (2, root, 0.9), (3, root + 12, 0.9)):
            if final and beat > 0:
                continue
            ln = (BAR if final else length * BEAT)
            nb = int(ln * SR)
            tb = np.arange(nb) / SR
            f = midi_hz(m)
            x = np.sin(2 * np.pi * f * tb) + 0.35 * saw(f, tb, 0.0, nyq_frac=0.02)
            place(buf, 0.42 * x * adsr(nb, 0.005, 0.25, 0.55, 0.06), t0 + beat * BEAT, 0.0)
        # arpeggio: eighth notes over the chord, plucked, ping-ponging left/right
        if not final:
            for k in range(8):
                m = arp[k % 4] + (12 if (bar % 2 == 1 and k >= 6) else 0)
                nb = int(0.45 * SR)
                tb = np.arange(nb) / SR
                f = midi_hz(m)
                x = np.sin(2 * np.pi * f * tb) + 0.3 * np.sin(4 * np.pi * f * tb) \
                    + 0.15 * np.sin(6 * np.pi * f * tb)
                x *= np.exp(-tb / 0.16) * (1 - np.exp(-tb / 0.003))
                place(buf, 0.13 * x, t0 + k * BEAT / 2, -0.45 if k % 2 == 0 else 0.45)
        # drums (the last bar: one kick, a cymbal wash)
        if final:
            place(buf, 0.8 * kick(), t0, 0.0)
            nc = int(2.4 * SR)
            tc = np.arange(nc) / SR
            cym = highpass(rng.standard_normal(nc), 4000) * np.exp(-tc / 0.7)
            place(buf, 0.05 * cym, t0, 0.3)
            continue
        for beat in (0, 2, 2.75):
            place(buf, 0.8 * kick(), t0 + beat * BEAT, 0.0)
        for beat in (1, 3):
            place(buf, 0.35 * snare(rng), t0 + beat * BEAT, 0.1)
        for k in range(8):
            acc = 1.0 if k % 2 == 0 else 0.6
            place(buf, 0.07 * acc * hat(rng), t0 + k * BEAT / 2 + rng.normal(0, 0.003), 0.35)
    mix = buf + lowpass(pad_bus, 3500)
    mix = stereo_reverb(rng, mix)
    # edges: 20 ms fade in, 2 s fade out
    fi, fo = int(0.02 * SR), int(2.0 * SR)
    mix[:fi] *= np.linspace(0, 1, fi)[:, None]
    mix[-fo:] *= np.linspace(1, 0, fo)[:, None] ** 2
    return mix * 10 ** (MUSIC_RMS_DBFS / 20) / rms(mix)


# ------------------------------------------------------------------------------------------------
# Ambience: night street, light rain


def make_ambience(rng):
    t = np.arange(N) / SR
    # rain hiss: decorrelated band-passed noise, slow gusts
    rain = np.stack([bandpass(rng.standard_normal(N), 900, 9000) for _ in range(2)], axis=1)
    gust = 1 + 0.25 * np.sin(2 * np.pi * 0.07 * t + 0.3) + 0.12 * np.sin(2 * np.pi * 0.19 * t + 1.7)
    rain *= gust[:, None]
    # drips: sparse decaying tones on gutters and leaves
    drips = np.zeros((N, 2))
    n_drips = rng.poisson(4.0 * DURATION_S)
    for s in np.sort(rng.uniform(0, DURATION_S - 0.1, n_drips)):
        nd = int(0.04 * SR)
        td = np.arange(nd) / SR
        f = rng.uniform(1800, 5200) * (1 + 0.6 * td / 0.04)
        x = np.sin(2 * np.pi * np.cumsum(f) / SR) * np.exp(-td / 0.008)
        place(drips, x * rng.uniform(0.3, 1.0), s, rng.uniform(-0.9, 0.9))
    # distant traffic: brown-ish rumble with slow swells
    brown = np.stack([np.cumsum(rng.standard_normal(N)) for _ in range(2)], axis=1)
    brown = lowpass(highpass(brown, 25), 180)
    brown /= rms(brown)
    brown *= (1 + 0.3 * np.sin(2 * np.pi * 0.045 * t))[:, None]
    # one car passing left to right around 13 s
    car = lowpass(bandpass(rng.standard_normal(N), 60, 1500), 900)
    car_env = np.exp(-0.5 * ((t - 13.0) / 2.2) ** 2)
    pan = np.clip((t - 13.0) / 4.0, -1, 1)
    th = (pan + 1) * np.pi / 4
    car_st = np.stack([np.cos(th) * car * car_env, np.sin(th) * car * car_env], axis=1)
    car_st /= rms(car) + 1e-12
    amb = (1.0 * rain / rms(rain) + 0.5 * drips / (rms(drips) + 1e-12)
           + 0.7 * brown + 0.45 * car_st)
    fi = int(0.05 * SR)
    amb[:fi] *= np.linspace(0, 1, fi)[:, None]
    amb[-fi:] *= np.linspace(1, 0, fi)[:, None]
    return amb * 10 ** (AMBIENCE_RMS_DBFS / 20) / rms(amb)


# ------------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    args = ap.parse_args()
    if shutil.which("espeak-ng") is None:
        sys.exit("make_demo.py: espeak-ng not found (apt-get install -y espeak-ng)")
    version = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True).stdout.strip()
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(SEED)
    with tempfile.TemporaryDirectory() as tmp:
        dialogue, phrases, intervals, events, cmds = make_dialogue(rng, tmp)
    music = make_music(rng)
    ambience = make_ambience(rng)

    for name, x in (("dialogue", dialogue), ("music", music), ("ambience", ambience)):
        peak = float(np.max(np.abs(x)))
        if peak > 0.97:
            sys.exit(f"make_demo.py: {name} would clip (peak {db(peak):.1f} dBFS)")
        wavfile.write(os.path.join(args.out, f"{name}.wav"), SR, to_int16(x))

    mask = np.zeros(N, bool)
    for s, e in intervals:
        mask[int(s * SR):int(e * SR)] = True
    levels = {
        "dialogue_speech_rms_dbfs": round(db(rms(dialogue[mask])), 2),
        "dialogue_peak_dbfs": round(db(np.max(np.abs(dialogue))), 2),
        "music_rms_dbfs": round(db(rms(music)), 2),
        "music_peak_dbfs": round(db(np.max(np.abs(music))), 2),
        "ambience_rms_dbfs": round(db(rms(ambience)), 2),
        "ambience_peak_dbfs": round(db(np.max(np.abs(ambience))), 2),
    }
    truth = {
        "scene": "demo_night_station",
        "description": "Underscore demo: two synthetic voices (espeak-ng) trade four lines over a "
                       "96 BPM synth cue and a rainy night-street ambience. Generated by "
                       "make_demo.py, CC0-1.0.",
        "sample_rate": SR,
        "duration_s": DURATION_S,
        "primary_bed": "music",
        "speech_intervals": intervals,
        "phrases": phrases,
        "non_speech_events": events,
        "levels": levels,
        "generator": {"script": "demo/make_demo.py", "seed": SEED, "espeak_ng": version,
                      "espeak_commands": cmds},
        "notes": "Intervals are in seconds. A phrase's start/end = first/last 10 ms frame of its "
                 "synthesised audio above (phrase peak - 38 dB); internal_gaps = pauses >= 60 ms "
                 "inside a phrase; speech_intervals = phrases split at those gaps. Levels are RMS "
                 "(dialogue: over the speech intervals).",
    }
    with open(os.path.join(args.out, "truth.json"), "w") as f:
        json.dump(truth, f, indent=1)
        f.write("\n")
    for c in cmds:
        print(c)
    print(json.dumps(levels))
    print("speech intervals:", intervals)


if __name__ == "__main__":
    main()
