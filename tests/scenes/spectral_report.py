#!/usr/bin/env python3
"""Spectral vs broadband on the scenes: the figures of the spectral-ducking acceptance.

usage: spectral_report.py BROADBAND_MANIFEST SPECTRAL_MANIFEST [--tools DIR] [--clarity DB]
       [--depth DB] [--markdown FILE]

Per scene (primary bed), during speech:
- ESTOI of dialogue over each ducked bed (shared evaluate.py);
- bed loudness lost (BS.1770 integrated, speech intervals, LU) with each mode;
- spectral mode's change of the bed below 120 Hz and above 10 kHz (Welch spectra, 5.9 Hz
  resolution, over the speech intervals), dB;
- spectral mode's dialogue-to-bed ratio in the third-octave bands 500 Hz-4 kHz: the worst
  miss of Clarity among bands that did not hit the Depth limit.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import butter, sosfilt, welch

ROOT = Path(__file__).resolve().parents[2]
THIRDS = [500, 630, 800, 1000, 1250, 1600, 2000, 2500, 3150, 4000]


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
    import pyloudnorm as pyln
    from evaluate import evaluate

    bb, sp = renders(a.broadband), renders(a.spectral)
    rows = ["| scene | bed | ESTOI orig | ESTOI broadband | ESTOI spectral | LU lost broadband "
            "| LU lost spectral | <120 Hz change dB | >10 kHz change dB | 500-4k D/B worst "
            "miss of Clarity dB (bands at Depth limit) |",
            "|---|---|---|---|---|---|---|---|---|---|"]
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
        meter = pyln.Meter(sr)
        lu = lambda x: meter.integrated_loudness(x[mask])
        lost_bb, lost_sp = lu(o) - lu(kb), lu(o) - lu(ks)
        f, p_orig = welch(o[mask].mean(axis=1), sr, nperseg=8192)
        _, p_duck = welch(ks[mask].mean(axis=1), sr, nperseg=8192)
        region_change = lambda sel: 10 * np.log10(p_duck[sel].sum() / p_orig[sel].sum())
        low_change = region_change(f < 120)
        high_change = region_change(f > 10_000)
        misses, limited = [], 0
        for fc in THIRDS:
            sos = butter(3, [fc / 2 ** (1 / 6), fc * 2 ** (1 / 6)], "bandpass", fs=sr, output="sos")
            orig_ratio = band_db(d, sos, mask) - band_db(o, sos, mask)
            ratio = band_db(d, sos, mask) - band_db(ks, sos, mask)
            if orig_ratio + a.depth < a.clarity - 2.0:
                limited += 1  # Clarity out of reach within Depth: the Depth limit applies
            elif orig_ratio < a.clarity:
                misses.append(ratio - a.clarity)
        worst = max(misses, key=abs) if misses else 0.0
        rows.append("| %s | %s | %.3f | %.3f | %.3f | %.2f | %.2f | %+.2f | %+.2f | %+.1f (%d) |" % (
            key[0], key[1], rb["estoi_orig"], rb["estoi_ducked"], rs["estoi_ducked"], lost_bb,
            lost_sp, low_change, high_change, worst, limited))
        out["%s/%s" % key] = dict(estoi_bb=rb["estoi_ducked"], estoi_sp=rs["estoi_ducked"],
                                  lost_bb=lost_bb, lost_sp=lost_sp, low=low_change,
                                  high=high_change, worst_miss=worst, limited=limited)
    table = "\n".join(rows)
    print(table)
    if a.markdown:
        Path(a.markdown).write_text(table + "\n")
    json.dump(out, open(Path(a.spectral).with_name("spectral_report.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
