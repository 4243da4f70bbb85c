#!/usr/bin/env python3
"""Spectral vs broadband on the scenes: the figures of the spectral-ducking acceptance.

usage: spectral_report.py BROADBAND_MANIFEST SPECTRAL_MANIFEST [--tools DIR] [--markdown FILE]
       [--all-beds]

Per scene (primary bed), during speech:
- ESTOI of dialogue over each ducked bed (shared evaluate.py);
- bed loudness lost (BS.1770 integrated, speech intervals, LU) with each mode;
- spectral mode's change of the bed below 120 Hz and above 10 kHz: the whole signal
  brick-wall filtered by FFT, then its power over the speech intervals, dB. (A Welch estimate
  over the speech samples cut out and joined was used first: the joins are clicks whose
  spectrum follows the loud mid band, and read as a -1.3 dB "change" above 10 kHz in s1.)
- the ESTOI bound: broadband ducking with the bed below 120 Hz put back to the original (what
  any mode that keeps the bass can at best reach), to compare spectral mode against;
- the dialogue-to-bed ratio Clarity sets, measured on the stems: the dialogue's power over the
  bed's per band of the engine's layout (ERB-rate, 36 bands 50 Hz-20 kHz) centred in 500 Hz-4
  kHz, over the speech intervals without their pauses, averaged in dB over the bands; before
  ducking and after, in each mode.
"""
import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[2]
MATERIAL = Path(os.environ.get("UNDERSCORE_MATERIAL", ROOT.parent / "shared" / "material"))
TOOLS = Path(os.environ.get("UNDERSCORE_TOOLS", MATERIAL.parent / "tools"))
SCENES = ("s1_drama_orchestral", "s2_pop_fast_speech", "s3_documentary_vo",
          "s5_breaths_false_trigger")


def check_material():
    """The scene tests' inputs: a missing stem or tool is a failure, not a skip."""
    for s in SCENES:
        for f in ("dialogue.flac", "music.flac", "ambience.flac", "ground_truth.json"):
            assert (MATERIAL / s / f).is_file(), f"{MATERIAL / s / f} missing"
    assert (TOOLS / "evaluate.py").is_file(), f"{TOOLS / 'evaluate.py'} missing"


def evaluate_function():
    """The shared evaluate.py's `evaluate`."""
    sys.path.insert(0, str(TOOLS))
    from evaluate import evaluate
    return evaluate


def curve_at(points, change_db):
    """A curve of (loudness change dB, ESTOI) points at `change_db`: linear between the
    bracketing points, the end points beyond them."""
    pts = sorted(points, key=lambda p: -p[0])  # from the least change down
    for (c0, e0), (c1, e1) in zip(pts, pts[1:]):
        if c1 <= change_db <= c0:
            t = 0.0 if c0 == c1 else (c0 - change_db) / (c0 - c1)
            return e0 + t * (e1 - e0)
    return pts[-1][1] if change_db < pts[-1][0] else pts[0][1]


def renders(manifest):
    m = json.load(open(manifest))
    return {(r["scene"], r["bed"]): r for r in m["renders"]}


def load(r):
    d, sr = sf.read(r["dialogue"], always_2d=True)
    o, _ = sf.read(r["bed_original"], always_2d=True)
    k, _ = sf.read(r["bed_ducked"], always_2d=True)
    lat = r["latency_samples"]
    k = np.concatenate([k[lat:], np.zeros((lat, k.shape[1]))])
    n = min(len(d), len(o), len(k))
    return d[:n], o[:n], k[:n], sr


def speech_mask(gt, n, sr):
    m = np.zeros(n, bool)
    for s, e in gt["speech_intervals"]:
        m[int(s * sr):int(e * sr)] = True
    return m


def restore_bass(ducked, orig, sr, cut_hz=120.0):
    """`ducked` with everything below `cut_hz` replaced by the original's (ideal crossover)."""
    n = len(ducked)
    low = np.fft.rfftfreq(n, 1 / sr) < cut_hz
    a, b = np.fft.rfft(ducked, axis=0), np.fft.rfft(orig, axis=0)
    a[low] = b[low]
    return np.fft.irfft(a, n, axis=0)


def k_weighted_db(x, sr, mask):
    """BS.1770 loudness of `x` over `mask` without the gates, LKFS: K-weighting (the
    standard's two filters, designed for `sr`), mean square summed over channels. Ungated,
    because the gates drop a quiet bed's ducked blocks and then report it as barely quieter
    (broadband -10 dB on s3's ambience read 3.7 LU with pyloudnorm's gated measure)."""
    from scipy.signal import lfilter
    # BS.1770-4 stage 1 (high shelf, +4 dB above ~1.5 kHz) and stage 2 (high pass, ~38 Hz),
    # via the standard's analog prototypes so any rate works.
    f0, g, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = np.tan(np.pi * f0 / sr)
    vh = 10 ** (g / 20)
    vb = vh ** 0.4996667741545416
    a0 = 1 + k / q + k * k
    b1 = [(vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0]
    a1 = [1, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    f0, q = 38.13547087602444, 0.5003270373238773
    k = np.tan(np.pi * f0 / sr)
    a0 = 1 + k / q + k * k
    b2 = [1, -2, 1]
    a2 = [1, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    chans = x if x.ndim == 2 else x[:, None]
    total = 0.0
    for c in range(chans.shape[1]):
        y = lfilter(b2, a2, lfilter(b1, a1, chans[:, c]))
        total += np.mean(y[mask] ** 2)
    return -0.691 + 10 * np.log10(total + 1e-30)


def brickwall_db(x, lo_hz, hi_hz, sr, mask):
    """Power of `x` between `lo_hz` and `hi_hz` (ideal FFT filter on the whole signal) over
    `mask`, dB."""
    mono = x.mean(axis=1) if x.ndim == 2 else x
    spec = np.fft.rfft(mono)
    f = np.fft.rfftfreq(len(mono), 1 / sr)
    spec[(f < lo_hz) | (f >= hi_hz)] = 0
    y = np.fft.irfft(spec, len(mono))
    return 10 * np.log10(np.mean(y[mask] ** 2) + 1e-30)


def engine_band_centres_hz(lowest=50.0, highest=20_000.0, bands=36):
    """Band centres of the engine's layout (dsp/src/bands.rs) before bin rounding: ERB-rate
    spacing, each centre halfway (in ERB-rate) between its edges."""
    edges = erb_rate_to_hz(np.linspace(erb_rate(lowest), erb_rate(highest), bands + 1))
    e = erb_rate(edges)
    return list(erb_rate_to_hz((e[:-1] + e[1:]) / 2))


def erb_rate(f_hz):
    """ERB-rate (Glasberg & Moore), as dsp/src/bands.rs."""
    return 21.4 * np.log10(1.0 + 0.00437 * np.asarray(f_hz, float))


def erb_rate_to_hz(erbs):
    return (10 ** (np.asarray(erbs, float) / 21.4) - 1.0) / 0.00437


def tiled_band_powers(x, sr, centres_hz, lo_hz, hi_hz, mask):
    """Mean power (over channels and the `mask` samples) of `x` in each of the engine's bands
    centred in `lo_hz`..`hi_hz`: the bands tile the spectrum, so each one's edges lie halfway
    (in ERB-rate) to its neighbours' centres (`centres_hz`: every band's centre, in order).
    Ideal FFT filters on the whole signal."""
    spec = np.fft.rfft(x, axis=0)
    f = np.fft.rfftfreq(len(x), 1 / sr)
    e = erb_rate(centres_hz)
    out = []
    for i, fc in enumerate(centres_hz):
        if not lo_hz <= fc <= hi_hz or i == 0 or i == len(centres_hz) - 1:
            continue
        lo, hi = erb_rate_to_hz((e[i - 1] + e[i]) / 2), erb_rate_to_hz((e[i] + e[i + 1]) / 2)
        s = spec.copy()
        s[(f < lo) | (f >= hi)] = 0
        y = np.fft.irfft(s, len(x), axis=0)
        out.append(np.mean(y[mask] ** 2))
    return np.array(out)


def speaking_mask(dialogue, gt, sr, pause_db=25.0, frame=960):
    """The ground truth's speech intervals without the pauses inside them: 20 ms frames more
    than `pause_db` under the dialogue's mean level there (the detector lets go in them)."""
    mono = dialogue.mean(axis=1) if dialogue.ndim == 2 else dialogue
    n = len(mono)
    mask = speech_mask(gt, n, sr)
    m = (n // frame) * frame
    level = 10 * np.log10(np.mean(mono[:m].reshape(-1, frame) ** 2, axis=1) + 1e-20)
    inside = mask[:m].reshape(-1, frame).all(axis=1)
    mean = 10 * np.log10(np.mean(10 ** (level[inside] / 10)))
    out = np.zeros(n, bool)
    out[:m] = np.repeat(inside & (level > mean - pause_db), frame)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("broadband")
    ap.add_argument("spectral")
    ap.add_argument("--tools", default=str(ROOT.parent / "shared" / "tools"))
    ap.add_argument("--markdown")
    ap.add_argument("--all-beds", action="store_true")
    a = ap.parse_args()
    sys.path.insert(0, a.tools)
    from evaluate import evaluate

    bb, sp = renders(a.broadband), renders(a.spectral)
    rows = ["| scene | bed | ESTOI orig | ESTOI broadband | ESTOI bound (broadband, bass kept) "
            "| ESTOI spectral | LU lost broadband | LU lost spectral | <120 Hz change dB "
            "| >10 kHz change dB | D/B 500-4k before dB | D/B after broadband dB "
            "| D/B after spectral dB |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    out = {}
    centres = engine_band_centres_hz()
    for key in sorted(sp):
        gt = json.load(open(sp[key]["ground_truth"]))
        if not a.all_beds and key[1] != gt["primary_bed"]:
            continue
        d, o, kb, sr = load(bb[key])
        _, _, ks, _ = load(sp[key])
        mask = speech_mask(gt, len(d), sr)
        rb = evaluate(d, o, kb, gt, sr)
        rs = evaluate(d, o, ks, gt, sr)
        lu = lambda x: k_weighted_db(x, sr, mask)
        lost_bb, lost_sp = lu(o) - lu(kb), lu(o) - lu(ks)
        low_change = brickwall_db(ks, 0, 120, sr, mask) - brickwall_db(o, 0, 120, sr, mask)
        high_change = (brickwall_db(ks, 10_000, sr, sr, mask)
                       - brickwall_db(o, 10_000, sr, sr, mask))
        bound = evaluate(d, o, restore_bass(kb, o, sr), gt, sr)["estoi_ducked"]
        speaking = speaking_mask(d, gt, sr)
        band = lambda x: tiled_band_powers(x, sr, centres, 500, 4000, speaking)
        pd = band(d.mean(axis=1)[:, None])
        ratio = lambda x: float(np.mean(10 * np.log10(pd / band(x))))
        before, after_bb, after_sp = ratio(o), ratio(kb), ratio(ks)
        rows.append("| %s | %s | %.3f | %.3f | %.3f | %.3f | %.2f | %.2f | %+.2f | %+.2f "
                    "| %+.1f | %+.1f | %+.1f |" % (
                        key[0], key[1], rb["estoi_orig"], rb["estoi_ducked"], bound,
                        rs["estoi_ducked"], lost_bb, lost_sp, low_change, high_change, before,
                        after_bb, after_sp))
        out["%s/%s" % key] = dict(estoi_orig=rb["estoi_orig"], estoi_bb=rb["estoi_ducked"],
                                  estoi_bound=bound, estoi_sp=rs["estoi_ducked"],
                                  lost_bb=lost_bb, lost_sp=lost_sp, low=low_change,
                                  high=high_change, ratio_before=before,
                                  ratio_after_bb=after_bb, ratio_after_sp=after_sp)
    table = "\n".join(rows)
    print(table)
    if a.markdown:
        Path(a.markdown).write_text(table + "\n")
    json.dump(out, open(Path(a.spectral).with_name("spectral_report.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
