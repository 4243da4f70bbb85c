#!/usr/bin/env python3
"""Spectral vs broadband on the scenes: the figures of the spectral-ducking acceptance.

usage: spectral_report.py BROADBAND_MANIFEST SPECTRAL_MANIFEST [--tools DIR] [--clarity DB]
       [--depth DB] [--markdown FILE]

Per scene (primary bed), during speech:
- ESTOI of dialogue over each ducked bed (shared evaluate.py);
- bed loudness lost (BS.1770 integrated, speech intervals, LU) with each mode;
- spectral mode's change of the bed below 120 Hz and above 10 kHz: the whole signal
  brick-wall filtered by FFT, then its power over the speech intervals, dB. (A Welch estimate
  over the speech samples cut out and joined was used first: the joins are clicks whose
  spectrum follows the loud mid band, and read as a -1.3 dB "change" above 10 kHz in s1.)
- the ESTOI bound: broadband ducking with the bed below 120 Hz put back to the original (what
  any mode that keeps the bass can at best reach), to compare spectral mode against;
- spectral mode's dialogue-to-bed ratio in auditory bands (one ERB wide, Glasberg & Moore, as
  the engine's bands) centred on the third-octave frequencies 500 Hz-4 kHz, with the
  dialogue at its *soft level* as the engine defines it (20th percentile of its 1024-sample
  frame levels while it speaks, pauses more than 25 dB under its mean skipped): the worst miss
  of Clarity among bands that did not hit the Depth limit, and the largest reduction applied
  to a band that already met Clarity; the bed levels over the speech samples where the
  broadband render is fully ducked (the duck's envelope is the same in both modes).
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import butter, sosfilt

ROOT = Path(__file__).resolve().parents[2]
THIRDS = [500, 630, 800, 1000, 1250, 1600, 2000, 2500, 3150, 4000]


def erb_band(fc, sr):
    """A 3rd-order Butterworth band-pass one ERB wide around `fc` (an auditory filter's width)."""
    erb = 24.7 * (4.37 * fc / 1000 + 1)
    return butter(3, [fc - erb / 2, fc + erb / 2], "bandpass", fs=sr, output="sos")


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


def soft_db(d, sos, mask, frame=1024, quantile=20, pause_db=25.0):
    """The dialogue's soft level in a band: a low percentile of its frame levels in speech."""
    mono = d.mean(axis=1) if d.ndim == 2 else d
    y = sosfilt(sos, mono)
    n = (len(y) // frame) * frame
    keep = mask[:n].reshape(-1, frame).all(axis=1)
    whole = 10 * np.log10(np.mean(mono[:n].reshape(-1, frame) ** 2, axis=1) + 1e-20)
    band = 10 * np.log10(np.mean(y[:n].reshape(-1, frame) ** 2, axis=1) + 1e-20)
    mean_db = 10 * np.log10(np.mean(10 ** (whole[keep] / 10)))
    active = keep & (whole > mean_db - pause_db)
    return np.percentile(band[active], quantile)


def engaged_mask(orig, ducked, mask, depth_db, frame=1024):
    """Speech samples where the broadband render is fully ducked (within 1 dB of Depth): the
    time the Clarity target applies. (Over whole speech intervals, the first and last moments
    of each phrase, before the duck lands and as it releases, dominate a power mean.)"""
    n = (len(orig) // frame) * frame
    po = np.mean(orig[:n].mean(axis=1).reshape(-1, frame) ** 2, axis=1) + 1e-20
    pd = np.mean(ducked[:n].mean(axis=1).reshape(-1, frame) ** 2, axis=1) + 1e-20
    full = 10 * np.log10(pd / po) <= -(depth_db - 1.0)
    m = np.zeros(len(orig), bool)
    m[:n] = np.repeat(full, frame)
    return m & mask


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


def band_db(x, sos, mask):
    y = sosfilt(sos, x.mean(axis=1) if x.ndim == 2 else x)
    return 10 * np.log10(np.mean(y[mask] ** 2) + 1e-20)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("broadband")
    ap.add_argument("spectral")
    ap.add_argument("--tools", default=str(ROOT.parent / "shared" / "tools"))
    ap.add_argument("--clarity", type=float, default=15.0)
    ap.add_argument("--depth", type=float, default=10.0)
    ap.add_argument("--markdown")
    ap.add_argument("--all-beds", action="store_true")
    a = ap.parse_args()
    sys.path.insert(0, a.tools)
    from evaluate import evaluate

    bb, sp = renders(a.broadband), renders(a.spectral)
    rows = ["| scene | bed | ESTOI orig | ESTOI broadband | ESTOI bound (broadband, bass kept) "
            "| ESTOI spectral | LU lost broadband | LU lost spectral | <120 Hz change dB "
            "| >10 kHz change dB | 500-4k soft D/B worst miss of Clarity dB (bands at Depth "
            "limit) | largest cut where Clarity was met dB |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    out = {}
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
        misses, limited, needless = [], 0, 0.0
        engaged = engaged_mask(o, kb, mask, a.depth)
        for fc in THIRDS:
            sos = erb_band(fc, sr)
            soft = soft_db(d, sos, mask)
            orig_ratio = soft - band_db(o, sos, engaged)
            ratio = soft - band_db(ks, sos, engaged)
            if orig_ratio + a.depth < a.clarity - 2.0:
                limited += 1  # Clarity out of reach within Depth: the Depth limit applies
            elif orig_ratio < a.clarity:
                misses.append(ratio - a.clarity)
            else:
                needless = max(needless, ratio - orig_ratio)
        worst = max(misses, key=abs) if misses else 0.0
        rows.append("| %s | %s | %.3f | %.3f | %.3f | %.3f | %.2f | %.2f | %+.2f | %+.2f "
                    "| %+.1f (%d) | %.1f |" % (
                        key[0], key[1], rb["estoi_orig"], rb["estoi_ducked"], bound,
                        rs["estoi_ducked"], lost_bb, lost_sp, low_change, high_change, worst,
                        limited, needless))
        out["%s/%s" % key] = dict(estoi_orig=rb["estoi_orig"], estoi_bb=rb["estoi_ducked"],
                                  estoi_bound=bound, estoi_sp=rs["estoi_ducked"],
                                  lost_bb=lost_bb, lost_sp=lost_sp, low=low_change,
                                  high=high_change, worst_miss=worst, limited=limited,
                                  needless_cut=needless)
    table = "\n".join(rows)
    print(table)
    if a.markdown:
        Path(a.markdown).write_text(table + "\n")
    json.dump(out, open(Path(a.spectral).with_name("spectral_report.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
