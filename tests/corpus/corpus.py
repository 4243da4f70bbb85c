#!/usr/bin/env python3
"""The "speech, not pitch" test corpus (issue 12): keys that must not duck the bed, and keys
that must, generated deterministically from seeds and the shared dialogue stems.

usage: corpus.py [--material ../shared/material] --out DIR

Writes the keys (mono 32-bit float WAV, 48 kHz), a steady pink-noise bed, ground truths and
`DIR/renders.json`, the input of `render-keys` (tests/src/bin/render_keys.rs). Every entry
carries what the measurement needs: `group`, `kind`, `level_dbfs`, `scene`, `bed_kind`,
`ground_truth`, `voice` (the clean voice, for the "voice rises at the onset" rule).

Groups:

* `nonspeech`: 15 kinds of sound a dialogue track carries that are not speech (tones, a glide,
  mains hum and buzz, pink and brown noise, handling thumps, mouth clicks, breaths), each at
  -40, -30 and -20 dBFS RMS. The level is the RMS **of the active parts**: the whole signal for
  the steady kinds, the event spans (each thump, click or breath) for the sparse ones, so a
  click at -20 dBFS is as strong as a -20 dBFS tone while it sounds. Many of them are periodic
  in the voice's pitch range, which is exactly what a pitch-periodicity detector mistakes for
  a voice.
* `speech`: each scene's dialogue.flac transformed with its timing kept: the original
  (reference), telephone band, 20 and 30 dB quieter, mixed with the scene's ambience at 0 dB
  SNR, overlapped by a second voice, and whispered (LPC re-synthesis with a noise excitation).
  Each is rendered over the pink bed and over the scene's own music.flac.
* `conversation`: phrases of two scenes with different voices alternating with 150-400 ms
  gaps (turn-taking), with its own ground truth in evaluate.py's format.
* `music_key`: each scene's music.flac (with its sung vocals, if any) as the key.

Beds: pink noise, stereo (independent channels), -20 dBFS RMS per channel: every frame has the
same level, so the gain the plugin applies is read directly from 20 ms frames.
"""

import argparse
import json
import zlib
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.linalg import solve_toeplitz
from scipy.signal import butter, lfilter, resample_poly, sosfilt, sosfiltfilt

SR = 48_000
LEVELS_DBFS = (-40.0, -30.0, -20.0)
NONSPEECH_DURATION_S = 12.0
BED_LEVEL_DBFS = -20.0
BED_DURATION_S = 60.0
FADE_S = 0.010
SCENES = ("s1_drama_orchestral", "s2_pop_fast_speech", "s3_documentary_vo",
          "s5_breaths_false_trigger")
# The second voice of the overlap case: s3 holds the only non-Allison voices (a male CMU ARCTIC
# line and the codec2 female voice), so it is every other scene's partner, and s1 is s3's.
OVERLAP_PARTNER = {"s1_drama_orchestral": "s3_documentary_vo",
                   "s2_pop_fast_speech": "s3_documentary_vo",
                   "s3_documentary_vo": "s1_drama_orchestral",
                   "s5_breaths_false_trigger": "s3_documentary_vo"}
OVERLAP_TARGET_FRACTION = 0.5  # of the partner's speech that lies inside the scene's speech
PHONE_BAND_HZ = (300.0, 3400.0)
QUIET_DB = (20.0, 30.0)
CONVERSATION_GAP_S = (0.150, 0.400)
CONVERSATION_MIN_S = 40.0
CONVERSATION_LEVEL_DBFS = -26.0  # speech RMS of both voices
WHISPER_RATE_HZ = 16_000
WHISPER_ORDER = 18
WHISPER_FRAME_S, WHISPER_HOP_S = 0.025, 0.0125


def seed(name):
    """A stable seed per signal name, so adding a case never changes another one."""
    return zlib.crc32(name.encode())


def db_to_gain(db):
    return 10.0 ** (db / 20.0)


def rms_db(x):
    return 10.0 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-30)


def fade(x, fade_s=FADE_S):
    """Raised-cosine fade in and out, so a steady signal starts and stops without a click."""
    n = int(fade_s * SR)
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(n) / n)
    x = x.copy()
    x[:n] *= ramp
    x[-n:] *= ramp[::-1]
    return x


def spans_mask(n, spans):
    """Boolean mask of the samples inside [start, end) spans given in samples."""
    m = np.zeros(n, bool)
    for a, b in spans:
        m[max(a, 0):min(b, n)] = True
    return m


# ---- non-speech keys: each returns (signal, active mask) at an arbitrary level ----------------

def tone(freq_hz, n, rng):
    """A steady sine: perfectly periodic, the simplest 'pitch' there is."""
    t = np.arange(n) / SR
    return fade(np.sin(2 * np.pi * freq_hz * t + rng.uniform(0, 2 * np.pi))), np.ones(n, bool)


def glide(f_start_hz, f_end_hz, n, rng):
    """An exponential sine sweep over the whole signal (80 -> 800 Hz in 12 s, 0.28 octave/s):
    a slowly moving pitch through the whole range of voices, like an intonation contour."""
    t = np.arange(n) / SR
    dur = n / SR
    k = np.log(f_end_hz / f_start_hz)
    phase = 2 * np.pi * f_start_hz * dur / k * (np.exp(t / dur * k) - 1)
    return fade(np.sin(phase + rng.uniform(0, 2 * np.pi))), np.ones(n, bool)


def periodic(f0_hz, n, harmonics):
    """A sum of harmonics [(k, amplitude, phase)] of f0, which must divide the sample rate: one
    period is synthesised and repeated (exact, and fast for hundreds of harmonics)."""
    period = SR // int(f0_hz)
    assert period * f0_hz == SR, f"{f0_hz} Hz does not divide {SR} Hz"
    t = np.arange(period) / SR
    one = sum(a * np.sin(2 * np.pi * k * f0_hz * t + ph) for k, a, ph in harmonics)
    return np.tile(one, n // period + 1)[:n]


def hum(f0_hz, n, rng):
    """Mains hum: every harmonic of f0 up to 1 kHz, odd ones at 1/k, even ones at 0.5/k,
    random phases: a low periodic drone with a strong pitch at f0."""
    harmonics = [(k, (1.0 if k % 2 else 0.5) / k, rng.uniform(0, 2 * np.pi))
                 for k in range(1, int(1000 // f0_hz) + 1)]
    return fade(periodic(f0_hz, n, harmonics)), np.ones(n, bool)


def buzz(f0_hz, n, rng):
    """Rectified-mains buzz (100/120 Hz): every harmonic up to 12 kHz at 1/k with the odd ones
    doubled (a sawtooth plus a square wave, in phase): a spiky, square-ish, very rich periodic
    wave, like a ground-loop or dimmer buzz."""
    harmonics = [(k, (2.0 if k % 2 else 1.0) / k, 0.0)
                 for k in range(1, int(12_000 // f0_hz) + 1)]
    return fade(periodic(f0_hz, n, harmonics)), np.ones(n, bool)


def coloured_noise(exponent, n, rng):
    """Noise with power density 1/f^exponent above 20 Hz (nothing below: no DC drift).
    exponent 1: pink (equal energy per octave, like many steady room and air noises);
    exponent 2: brown (rumble: wind, traffic, handling noise)."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / SR)
    shape = np.zeros_like(f)
    shape[f >= 20] = f[f >= 20] ** (-exponent / 2)
    return fade(np.fft.irfft(spec * shape, n)), np.ones(n, bool)


def event_times(n, rng, first_s, gap_s):
    """Start samples of events: the first at first_s, then gaps drawn uniformly from gap_s."""
    starts, t = [], first_s
    while t < n / SR - 0.7:
        starts.append(int(t * SR))
        t += rng.uniform(*gap_s)
    return starts


def thumps(n, rng):
    """Handling thumps (a hand on the microphone or stand), irregularly every 1-2 s: a low
    broadband hit (noise, 1 ms rise, 8 ms decay, low-passed at 1 kHz) plus a periodic low ring
    (a damped sine at 90-150 Hz, decay time constant 40-80 ms: the mount resonating), each hit
    +-3 dB. Active span: 250 ms from the hit."""
    x = np.zeros(n)
    spans = []
    lowpass = butter(2, 1000, "lowpass", fs=SR, output="sos")
    span = int(0.250 * SR)
    for s in event_times(n, rng, 0.5, (1.0, 2.0)):
        t = np.arange(span) / SR
        hit = rng.standard_normal(span) * np.minimum(t / 0.001, 1.0) * np.exp(-t / 0.008)
        hit = sosfilt(lowpass, hit)
        ring_hz, tau_s = rng.uniform(90, 150), rng.uniform(0.040, 0.080)
        ring = 0.7 * np.sin(2 * np.pi * ring_hz * t) * np.exp(-t / tau_s)
        ev = (hit / (np.max(np.abs(hit)) + 1e-12) + ring) * db_to_gain(rng.uniform(-3, 3))
        x[s:s + span] += ev[: n - s]
        spans.append((s, s + span))
    return x, spans_mask(n, spans)


def clicks(n, rng):
    """Lip and mouth clicks: 1-3 ms Hann-windowed noise bursts band-passed 1.5-6 kHz, at
    irregular intervals of 0.25-1.5 s, each +-6 dB. Active span: the burst plus 2 ms of the
    filter's ring."""
    bursts = np.zeros(n)
    spans = []
    for s in event_times(n, rng, 0.3, (0.25, 1.5)):
        length = int(rng.uniform(0.001, 0.003) * SR)
        burst = rng.standard_normal(length) * np.hanning(length)
        bursts[s:s + length] += burst * db_to_gain(rng.uniform(-6, 6))
        spans.append((s, s + length + int(0.002 * SR)))
    x = sosfilt(butter(2, [1500, 6000], "bandpass", fs=SR, output="sos"), bursts)
    return x, spans_mask(n, spans)


def breaths(n, rng):
    """Breaths between lines, every 2-4 s, each 300-600 ms: white noise band-passed 400-3000 Hz
    plus a third as much hiss above 3 kHz, under an asymmetric hump (sin^2 rise over the first
    35 %, sin^2 fall over the rest) with a slow random flutter, each +-3 dB. No pitch at all:
    the breaths a voice detector must not hear as speech. Active span: the burst."""
    band = butter(2, [400, 3000], "bandpass", fs=SR, output="sos")
    hiss = butter(2, 3000, "highpass", fs=SR, output="sos")
    x = np.zeros(n)
    spans = []
    for s in event_times(n, rng, 0.8, (2.0, 4.0)):
        length = int(rng.uniform(0.300, 0.600) * SR)
        u = np.arange(length) / length
        peak = 0.35
        env = np.where(u < peak, np.sin(0.5 * np.pi * u / peak) ** 2,
                       np.cos(0.5 * np.pi * (u - peak) / (1 - peak)) ** 2)
        env *= 1 + 0.2 * np.sin(2 * np.pi * rng.uniform(3, 7) * u * length / SR
                                + rng.uniform(0, 2 * np.pi))
        noise = rng.standard_normal(length + 2048)
        burst = (sosfilt(band, noise) + 0.33 * sosfilt(hiss, noise))[2048:]
        x[s:s + length] += burst * env * db_to_gain(rng.uniform(-3, 3))
        spans.append((s, s + length))
    return x, spans_mask(n, spans)


# kind -> (generator of (signal, active mask) from (n, rng), one line on what it is)
NONSPEECH = {
    "tone_100hz": (lambda n, r: tone(100, n, r), "sine 100 Hz"),
    "tone_250hz": (lambda n, r: tone(250, n, r), "sine 250 Hz"),
    "tone_440hz": (lambda n, r: tone(440, n, r), "sine 440 Hz"),
    "tone_1khz": (lambda n, r: tone(1000, n, r), "sine 1 kHz"),
    "tone_4khz": (lambda n, r: tone(4000, n, r), "sine 4 kHz"),
    "glide_80hz_800hz": (lambda n, r: glide(80, 800, n, r), "exponential sine sweep 80->800 Hz"),
    "hum_50hz": (lambda n, r: hum(50, n, r), "50 Hz mains hum, harmonics to 1 kHz"),
    "hum_60hz": (lambda n, r: hum(60, n, r), "60 Hz mains hum, harmonics to 1 kHz"),
    "buzz_100hz": (lambda n, r: buzz(100, n, r), "100 Hz rectified buzz, harmonics to 12 kHz"),
    "buzz_120hz": (lambda n, r: buzz(120, n, r), "120 Hz rectified buzz, harmonics to 12 kHz"),
    "pink_noise": (lambda n, r: coloured_noise(1, n, r), "pink noise (1/f) above 20 Hz"),
    "brown_noise": (lambda n, r: coloured_noise(2, n, r), "brown noise (1/f^2) above 20 Hz"),
    "thumps": (thumps, "handling thumps with a 90-150 Hz ring, every 1-2 s"),
    "clicks": (clicks, "mouth clicks 1-3 ms, 1.5-6 kHz, every 0.25-1.5 s"),
    "breaths": (breaths, "breaths 300-600 ms, 400-3000 Hz noise, every 2-4 s"),
}


def nonspeech_key(kind, level_dbfs, duration_s=NONSPEECH_DURATION_S):
    """Non-speech key `kind` whose active parts have an RMS of level_dbfs. The waveform does not
    depend on the level (one seed per kind), so the three levels are the same sound."""
    n = int(duration_s * SR)
    if (kind, n) not in _NONSPEECH_CACHE:
        x, active = NONSPEECH[kind][0](n, np.random.default_rng(seed("nonspeech/" + kind)))
        _NONSPEECH_CACHE[kind, n] = x / np.sqrt(np.mean(x[active] ** 2)), active
    x, active = _NONSPEECH_CACHE[kind, n]
    return x * db_to_gain(level_dbfs), active


# (kind, frames) -> (signal at 0 dBFS active RMS, active mask): the three levels share one draw.
_NONSPEECH_CACHE = {}


def pink_bed(duration_s=BED_DURATION_S, level_dbfs=BED_LEVEL_DBFS):
    """The steady bed: two independent pink noises, each level_dbfs RMS, as (frames, 2)."""
    n = int(duration_s * SR)
    rng = np.random.default_rng(seed("bed/pink"))
    chans = [coloured_noise(1, n, rng)[0] for _ in range(2)]
    return np.stack([c * db_to_gain(level_dbfs) / np.sqrt(np.mean(c ** 2)) for c in chans], 1)


# ---- speech transforms -------------------------------------------------------------------------

def read_mono(path):
    x, sr = sf.read(str(path), always_2d=True)
    assert sr == SR, f"{path}: {sr} Hz, expected {SR}"
    return x.mean(axis=1)


def speech_mask(n, intervals):
    return spans_mask(n, [(int(s * SR), int(e * SR)) for s, e in intervals])


def speech_rms(x, intervals):
    return np.sqrt(np.mean(x[speech_mask(len(x), intervals)] ** 2))


def phone(x, intervals):
    """Telephone band: 4th-order Butterworth band-pass 300-3400 Hz applied forwards and
    backwards (zero phase, so the timing is kept), then the speech RMS restored (a phone call
    is not quieter, only narrower: the fundamental and low harmonics are gone)."""
    sos = butter(4, PHONE_BAND_HZ, "bandpass", fs=SR, output="sos")
    y = sosfiltfilt(sos, x)
    return y * speech_rms(x, intervals) / speech_rms(y, intervals)


def with_ambience(x, ambience, intervals, snr_db=0.0):
    """Dialogue plus the scene's own ambience scaled so that, over the speech intervals, the
    ambience has the dialogue's RMS minus snr_db: a noisy location recording. Returns the key
    and the gain applied to the ambience."""
    g = speech_rms(x, intervals) / speech_rms(ambience, intervals) * db_to_gain(-snr_db)
    return x + g * ambience, g


def below_clipping(x, peak_dbfs=-1.0):
    """x scaled down (never up) so its peak is at most peak_dbfs; returns it and the gain in
    dB (0 if untouched). A mix of two full-level signals can pass 0 dBFS."""
    gain_db = min(0.0, peak_dbfs - 20 * np.log10(np.max(np.abs(x)) + 1e-30))
    return x * db_to_gain(gain_db), gain_db


def merge(intervals, min_gap_s=0.0):
    """Union of intervals (touching or overlapping ones, or closer than min_gap_s, merged)."""
    out = []
    for s, e in sorted(intervals):
        if out and s <= out[-1][1] + min_gap_s:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(round(s, 4), round(e, 4)) for s, e in out]


def overlap_seconds(a, b):
    return sum(max(0.0, min(e1, e2) - max(s1, s2)) for s1, e1 in a for s2, e2 in b)


def overlap_delay_s(own, partner, duration_s):
    """The delay (0.30-3.00 s, 10 ms steps) of the partner's dialogue at which the share of its
    speech (inside the scene's length) that overlaps the scene's own speech is nearest
    OVERLAP_TARGET_FRACTION: the two voices overlap partly, neither fully nor never."""
    best = None
    for d in np.arange(0.30, 3.0001, 0.01):
        shifted = [(s + d, min(e + d, duration_s)) for s, e in partner if s + d < duration_s]
        total = sum(e - s for s, e in shifted)
        if total <= 0:
            continue
        score = abs(overlap_seconds(own, shifted) / total - OVERLAP_TARGET_FRACTION)
        if best is None or score < best[0] - 1e-9:
            best = (score, round(float(d), 2))
    return best[1]


def two_voices(x, intervals, partner, partner_intervals):
    """The scene's dialogue plus another scene's dialogue (other voices), level-matched over
    speech, delayed so that about half of its speech overlaps the scene's. Returns the key, the
    delay and the speech intervals (the union of both voices')."""
    n = len(x)
    delay_s = overlap_delay_s(intervals, partner_intervals, n / SR)
    p = np.zeros(n)
    d = int(round(delay_s * SR))
    m = min(len(partner), n - d)
    p[d:d + m] = partner[:m]
    shifted = [(s + delay_s, min(e + delay_s, n / SR)) for s, e in partner_intervals
               if s + delay_s < n / SR]
    p *= speech_rms(x, intervals) / speech_rms(p, shifted)
    return x + p, delay_s, merge(list(intervals) + shifted)


def lpc(frame, order):
    """LPC coefficients [1, a1..ap] of a windowed frame (autocorrelation method), or None for a
    silent frame."""
    r = np.correlate(frame, frame, "full")[len(frame) - 1: len(frame) + order]
    if r[0] <= 1e-12:
        return None
    r[0] *= 1 + 1e-6  # a -60 dB white-noise floor keeps the normal equations well conditioned
    a = solve_toeplitz(r[:order], -r[1:order + 1])
    return np.concatenate([[1.0], a])


def whisper(x, intervals, rng):
    """Whispered speech by LPC re-synthesis: at 16 kHz, pre-emphasised (0.97), 25 ms Hann frames
    every 12.5 ms, each frame's order-18 vocal-tract filter 1/A(z) is kept and its excitation
    (the LPC residual, which carries the glottal pulses) is replaced by white noise of the same
    energy; frames are overlap-added, de-emphasised, brought back to 48 kHz and to the
    original's speech RMS. Formants and timing stay, the voicing (pitch) is gone: what a
    whisper is."""
    x16 = resample_poly(x, 1, SR // WHISPER_RATE_HZ)
    pre = lfilter([1.0, -0.97], [1.0], x16)
    n_frame = int(WHISPER_FRAME_S * WHISPER_RATE_HZ)
    hop = int(WHISPER_HOP_S * WHISPER_RATE_HZ)
    tail = n_frame // 2  # the synthesis filter rings on past its frame
    win = np.hanning(n_frame + 1)[:-1]  # periodic Hann: 50 % overlap-add sums to 1
    out = np.zeros(len(pre) + n_frame + tail)
    noise = rng.standard_normal(len(out))
    for start in range(0, len(pre) - n_frame + hop, hop):
        seg = pre[start:start + n_frame]
        seg = np.pad(seg, (0, n_frame - len(seg))) * win
        a = lpc(seg, WHISPER_ORDER)
        if a is None:
            continue
        residual_energy = np.sum(lfilter(a, [1.0], seg) ** 2)
        exc = noise[start:start + n_frame] * win
        exc *= np.sqrt(residual_energy / np.sum(exc ** 2))
        y = lfilter([1.0], a, np.pad(exc, (0, tail)))
        out[start:start + n_frame + tail] += y
    y16 = lfilter([1.0], [1.0, -0.97], out[: len(pre)])
    y = resample_poly(y16, SR // WHISPER_RATE_HZ, 1)[: len(x)]
    y = np.pad(y, (0, len(x) - len(y)))
    return y * speech_rms(x, intervals) / speech_rms(y, intervals)


def conversation(voices, rng):
    """Turn-taking: phrases of voice A and voice B alternate (A1 B1 A2 B2 ..., each voice's
    phrases in order and cycled), separated by gaps drawn uniformly from 150-400 ms, from 1 s
    on until the timeline passes CONVERSATION_MIN_S, then 2 s of silence. Each phrase is cut
    at its ground-truth boundaries (which include 30 ms of its own near-silence), both voices
    at CONVERSATION_LEVEL_DBFS speech RMS. Returns the key and its ground truth (evaluate.py's
    format: every gap is < 400 ms, so the whole conversation is one run checked for pumping).

    voices: two lists of (signal, phrase dict from the scene's ground truth, label)."""
    pieces, phrases, t, turn = [], [], 1.0, 0
    index = [0, 0]
    while t < CONVERSATION_MIN_S:
        v = turn % 2
        sig, ph, label = voices[v][index[v] % len(voices[v])]
        index[v] += 1
        a, b = int(round(ph["start"] * SR)), int(round(ph["end"] * SR))
        start = int(round(t * SR))
        pieces.append((start, sig[a:b]))
        s = start / SR
        shift = s - ph["start"]
        phrases.append({
            "start": round(s, 4),
            "end": round(s + (b - a) / SR, 4),
            "source": label,
            "internal_gaps": [[round(g0 + shift, 4), round(g1 + shift, 4)]
                              for g0, g1 in ph.get("internal_gaps", [])],
        })
        t = phrases[-1]["end"] + rng.uniform(*CONVERSATION_GAP_S)
        turn += 1
    n = int(round((phrases[-1]["end"] + 2.0) * SR))
    x = np.zeros(n)
    for start, piece in pieces:
        x[start:start + len(piece)] += piece
    gt = {
        "scene": "conversation",
        "description": "Turn-taking between two voices, gaps 150-400 ms (generated by "
                       "tests/corpus/corpus.py).",
        "sample_rate": SR,
        "duration_s": n / SR,
        "speech_intervals": [[p["start"], p["end"]] for p in phrases],
        "phrases": phrases,
        "non_speech_events": [],
    }
    return x, gt


# ---- the corpus on disk -----------------------------------------------------------------------

def write_key(path, x):
    """A key as mono 32-bit float WAV (render-keys copies mono to both Dialogue channels)."""
    peak = np.max(np.abs(x))
    assert peak < 1.0, f"{path.name}: peak {20 * np.log10(peak):.1f} dBFS clips"
    sf.write(str(path), x.astype(np.float32), SR, subtype="FLOAT")
    return str(path)


def level_name(level_dbfs):
    return "m%02ddbfs" % round(-level_dbfs)


def build(material, out):
    """Generates the whole corpus into `out`; returns the render list (also written to
    out/renders.json)."""
    material, out = Path(material), Path(out)
    keys = out / "keys"
    keys.mkdir(parents=True, exist_ok=True)
    bed_path = out / "bed_pink.wav"
    sf.write(str(bed_path), pink_bed().astype(np.float32), SR, subtype="FLOAT")
    pink = str(bed_path)
    renders = []

    for kind in NONSPEECH:
        for level in LEVELS_DBFS:
            x, active = nonspeech_key(kind, level)
            name = f"ns_{kind}_{level_name(level)}"
            renders.append({
                "name": name, "group": "nonspeech", "kind": kind, "level_dbfs": level,
                "active_rms_dbfs": round(rms_db(x[active]), 3),
                "description": NONSPEECH[kind][1],
                "key": write_key(keys / f"{name}.wav", x), "bed": pink, "bed_kind": "pink",
            })

    scene = {}
    for s in SCENES:
        d = material / s
        scene[s] = {
            "dir": d,
            "dialogue": read_mono(d / "dialogue.flac"),
            "gt": json.load(open(d / "ground_truth.json")),
        }
    for s in SCENES:
        d, x, gt = scene[s]["dir"], scene[s]["dialogue"], scene[s]["gt"]
        iv = [tuple(v) for v in gt["speech_intervals"]]
        gt_path = str(d / "ground_truth.json")
        dialogue_path = str(d / "dialogue.flac")
        cases = []  # (transform, key path, ground truth, voice path, extra fields)
        cases.append(("original", dialogue_path, gt_path, dialogue_path, {}))
        p = write_key(keys / f"{s}_phone.wav", phone(x, iv))
        cases.append(("phone", p, gt_path, p, {}))
        for q in QUIET_DB:
            p = write_key(keys / f"{s}_quiet{q:.0f}db.wav", x * db_to_gain(-q))
            cases.append((f"quiet_{q:.0f}db", p, gt_path, p, {"gain_db": -q}))
        amb = read_mono(d / "ambience.flac")
        key, g = with_ambience(x, amb, iv, 0.0)
        key, mix_gain_db = below_clipping(key)
        p = write_key(keys / f"{s}_ambience0db.wav", key)
        cases.append(("ambience_0db_snr", p, gt_path, dialogue_path,
                      {"ambience_gain_db": round(20 * np.log10(g), 2),
                       "key_gain_db": round(mix_gain_db, 2)}))
        partner = OVERLAP_PARTNER[s]
        key, delay_s, union = two_voices(x, iv, scene[partner]["dialogue"],
                                         [tuple(v) for v in scene[partner]["gt"]["speech_intervals"]])
        key, mix_gain_db = below_clipping(key)
        p = write_key(keys / f"{s}_overlap.wav", key)
        ogt = {"scene": f"{s}+{partner}", "sample_rate": SR, "duration_s": len(x) / SR,
               "description": f"{s} dialogue plus {partner} dialogue delayed by {delay_s} s",
               "speech_intervals": [list(v) for v in union],
               "phrases": [{"start": a, "end": b, "internal_gaps": []} for a, b in union],
               "non_speech_events": []}
        ogt_path = out / f"{s}_overlap_gt.json"
        ogt_path.write_text(json.dumps(ogt, indent=1))
        cases.append(("overlap", p, str(ogt_path), p,
                      {"partner": partner, "partner_delay_s": delay_s,
                       "key_gain_db": round(mix_gain_db, 2)}))
        p = write_key(keys / f"{s}_whisper.wav",
                      whisper(x, iv, np.random.default_rng(seed("whisper/" + s))))
        cases.append(("whisper", p, gt_path, p, {}))
        for transform, key_path, gtp, voice, extra in cases:
            for bed_kind, bed in (("pink", pink), ("music", str(d / "music.flac"))):
                renders.append({
                    "name": f"sp_{s}_{transform}_{bed_kind}", "group": "speech",
                    "kind": transform, "scene": s, "key": key_path, "bed": bed,
                    "bed_kind": bed_kind, "ground_truth": gtp, "voice": voice, **extra,
                })

    def phrases_of(s, keep):
        return [(scene[s]["dialogue"], ph, f"{s}: {ph.get('source', '?')}")
                for ph in scene[s]["gt"]["phrases"] if keep(ph)]
    voice_a = phrases_of("s1_drama_orchestral", lambda ph: True)
    voice_b = phrases_of("s3_documentary_vo", lambda ph: "Allison" not in ph.get("source", ""))
    for v in (voice_a, voice_b):
        level = np.sqrt(np.mean(np.concatenate(
            [sig[int(ph["start"] * SR):int(ph["end"] * SR)] for sig, ph, _ in v]) ** 2))
        v[:] = [(sig * db_to_gain(CONVERSATION_LEVEL_DBFS) / level, ph, lab) for sig, ph, lab in v]
    key, cgt = conversation([voice_a, voice_b], np.random.default_rng(seed("conversation")))
    p = write_key(keys / "conversation.wav", key)
    cgt_path = out / "conversation_gt.json"
    cgt_path.write_text(json.dumps(cgt, indent=1))
    renders.append({"name": "conversation", "group": "conversation", "kind": "turn_taking",
                    "key": p, "bed": pink, "bed_kind": "pink", "ground_truth": str(cgt_path),
                    "voice": p})

    for s in SCENES:
        renders.append({"name": f"mk_{s}", "group": "music_key", "kind": "music", "scene": s,
                        "key": str(scene[s]["dir"] / "music.flac"), "bed": pink,
                        "bed_kind": "pink"})

    (out / "renders.json").write_text(json.dumps(renders, indent=1))
    return renders


def main():
    root = Path(__file__).resolve().parents[2]
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--material", default=str(root.parent / "shared" / "material"))
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    renders = build(a.material, a.out)
    print(f"{len(renders)} renders -> {Path(a.out) / 'renders.json'}")


if __name__ == "__main__":
    main()
