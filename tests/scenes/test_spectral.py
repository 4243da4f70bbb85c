"""Spectral (masking-aware) mode on the four development scenes (issues 4 and 13), through the
built plugin (`render-scenes`, the CLAP ABI) and the render CLI (its report).

Asserted per scene (primary bed, default settings unless said), during speech:

* **equal loudness cost**: spectral ESTOI >= the ESTOI of the Broadband Depth curve at the same
  loudness change of the bed. The curve is Broadband rendered at Depth 0, -3, -6, -10, -15, -20
  and -30 dB; the loudness change is the bed's ungated K-weighted (BS.1770 filter) power over
  the speech intervals, after minus before (the gated integrated loudness drops the most-ducked
  blocks); linear interpolation between Depths;
* **Clarity works**: at Depth -20 dB, Clarity 5, 15 and 25 dB lower the bed's 500 Hz-4 kHz level
  monotonically, and 25 dB is >= 4 dB lower than 5 dB on average over the scenes;
* **bass and air kept**: below Focus Low (120 Hz) and above Focus High (8 kHz) the bed changes by
  less than 1 dB wherever that band holds >= -30 dB of the bed's energy;
* **the readout is trustworthy**: the render report's dialogue-to-bed figure (500 Hz-4 kHz, the
  quantity Clarity sets, computed by the code the editor uses) agrees within 1 dB with an
  offline measurement of the same definition on the rendered stems;
* spectral mode loses less loudness than Broadband at the same Depth and raises ESTOI.

Run with `-s` for the tables. Missing material or tools are failures, not skips.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "scenes"))
import spectral_report as sr_  # noqa: E402
from spectral_report import MATERIAL, SCENES  # noqa: E402

CURVE_DEPTHS_DB = (-3, -6, -10, -15, -20, -30)
CLARITIES_DB = (5, 15, 25)
CLARITY_SPAN_MIN_DB = 4.0
FOCUS_LOW_HZ, FOCUS_HIGH_HZ = 120.0, 8_000.0
KEPT_MAX_DB = 1.0
BAND_SHARE_MIN_DB = -30.0
READOUT_TOLERANCE_DB = 1.0


def test_material_and_tools_are_present():
    sr_.check_material()


def render(out, *settings):
    args = ["cargo", "run", "-q", "--release", "-p", "underscore-tests", "--bin",
            "render-scenes", "--", "--material", str(MATERIAL), "--out", str(out)]
    for s in settings:
        args += ["--set", s]
    subprocess.run(args, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return sr_.renders(out / "manifest.json")


def primary(renders):
    """{scene: (dialogue, original bed, ducked bed, rate, ground truth, speech mask)}."""
    out = {}
    for (scene, bed), r in sorted(renders.items()):
        gt = json.load(open(r["ground_truth"]))
        if bed != gt["primary_bed"]:
            continue
        d, o, k, rate = sr_.load(r)
        out[scene] = (d, o, k, rate, gt, sr_.speech_mask(gt, len(d), rate))
    assert sorted(out) == sorted(SCENES), sorted(out)
    return out


def loudness_change_db(o, k, rate, mask):
    return sr_.k_weighted_db(k, rate, mask) - sr_.k_weighted_db(o, rate, mask)


@pytest.fixture(scope="module")
def evaluate():
    return sr_.evaluate_function()


@pytest.fixture(scope="module")
def figures(tmp_path_factory, evaluate):
    """Every render and its figures, computed once."""
    base = tmp_path_factory.mktemp("spectral")
    spectral = primary(render(base / "spectral", "Mode=Spectral"))
    curve = {}
    for depth in CURVE_DEPTHS_DB:
        curve[depth] = primary(render(base / f"bb{depth}", f"Depth={depth}"))
    clarity = {c: primary(render(base / f"cl{c}", "Mode=Spectral", "Depth=-20", f"Clarity={c}"))
               for c in CLARITIES_DB}
    out = {}
    for scene, (d, o, k, rate, gt, mask) in spectral.items():
        e = evaluate(d, o, k, gt, rate)
        points = [(0.0, e["estoi_orig"])]
        for depth in CURVE_DEPTHS_DB:
            _, _, kb, _, _, _ = curve[depth][scene]
            points.append((loudness_change_db(o, kb, rate, mask),
                           evaluate(d, o, kb, gt, rate)["estoi_ducked"]))
        change = loudness_change_db(o, k, rate, mask)
        speech_band = []
        for c in CLARITIES_DB:
            _, _, kc, _, _, _ = clarity[c][scene]
            speech_band.append(sr_.brickwall_db(kc, 500, 4000, rate, mask)
                               - sr_.brickwall_db(o, 500, 4000, rate, mask))
        kept = {}
        total = sr_.brickwall_db(o, 0, rate, rate, mask)
        for name, lo, hi in (("low", 0, FOCUS_LOW_HZ), ("high", FOCUS_HIGH_HZ, rate)):
            share = sr_.brickwall_db(o, lo, hi, rate, mask) - total
            moved = sr_.brickwall_db(k, lo, hi, rate, mask) - sr_.brickwall_db(o, lo, hi, rate, mask)
            kept[name] = (share, moved)
        bb10 = curve[-10][scene]
        out[scene] = dict(curve=points, change=change, estoi=e["estoi_ducked"],
                          estoi_orig=e["estoi_orig"],
                          bb10_change=loudness_change_db(o, bb10[2], rate, mask),
                          speech_band=speech_band, kept=kept)
    print_tables(out)
    return out


def curve_estoi(points, change_db):
    """ESTOI of the Broadband curve at `change_db`, linear between the bracketing Depths."""
    return sr_.curve_at(points, change_db)


def print_tables(out):
    print("\n\nSpectral at its defaults against the Broadband Depth curve (primary beds)")
    print("%-26s %10s %10s %12s %8s  %s" % ("scene", "change dB", "ESTOI sp", "ESTOI curve",
                                            "margin", "curve (change dB: ESTOI)"))
    for scene, f in out.items():
        ce = curve_estoi(f["curve"], f["change"])
        print("%-26s %10.2f %10.3f %12.3f %+8.3f  %s" % (
            scene, f["change"], f["estoi"], ce, f["estoi"] - ce,
            ", ".join("%.1f: %.3f" % p for p in f["curve"])))
    print("\nClarity %s dB at Depth -20 dB: 500 Hz-4 kHz bed change during speech, dB" % (
        list(CLARITIES_DB),))
    for scene, f in out.items():
        print("%-26s %s" % (scene, "  ".join("%+.2f" % v for v in f["speech_band"])))
    mean = np.mean([f["speech_band"] for f in out.values()], axis=0)
    print("%-26s %s" % ("mean", "  ".join("%+.2f" % v for v in mean)))
    print("\nOutside Focus (share of the bed's energy dB: change dB)")
    for scene, f in out.items():
        print("%-26s below %.0f Hz %6.1f: %+.2f   above %.0f Hz %6.1f: %+.2f" % (
            scene, FOCUS_LOW_HZ, *f["kept"]["low"], FOCUS_HIGH_HZ, *f["kept"]["high"]))


def test_spectral_beats_the_broadband_curve_at_equal_loudness(figures):
    for scene, f in figures.items():
        ce = curve_estoi(f["curve"], f["change"])
        assert f["estoi"] >= ce, (
            f"{scene}: spectral ESTOI {f['estoi']:.3f} at {f['change']:.2f} dB, "
            f"Broadband curve {ce:.3f} there")


def test_clarity_moves_the_speech_band_monotonically(figures):
    for scene, f in figures.items():
        v = f["speech_band"]
        assert all(a >= b for a, b in zip(v, v[1:])), f"{scene}: {v}"
    mean = np.mean([f["speech_band"] for f in figures.values()], axis=0)
    span = mean[0] - mean[-1]
    assert span >= CLARITY_SPAN_MIN_DB, f"Clarity 5 -> 25 dB moves the speech band {span:.2f} dB"


def test_bass_and_air_are_kept(figures):
    for scene, f in figures.items():
        for name, (share, moved) in f["kept"].items():
            if share >= BAND_SHARE_MIN_DB:
                assert abs(moved) < KEPT_MAX_DB, (
                    f"{scene}: {name} band ({share:.1f} dB of the bed) moved {moved:+.2f} dB")


def test_less_loudness_lost_than_broadband_and_more_intelligible(figures):
    for scene, f in figures.items():
        assert f["change"] > f["bb10_change"], (
            f"{scene}: spectral {f['change']:.2f} dB vs Broadband {f['bb10_change']:.2f} dB")
        assert f["estoi"] > f["estoi_orig"], scene


def readout(scene, bed, out_dir):
    """Renders with the CLI (Spectral, defaults) and returns (report's before and after,
    offline before and after): the dialogue's power over the bed's, per band of the engine's
    layout centred in 500 Hz-4 kHz, over the ground truth's speech intervals without their
    pauses, averaged in dB over the bands."""
    m = MATERIAL / scene
    out = out_dir / f"{scene}.wav"
    js = out_dir / f"{scene}.json"
    subprocess.run(["cargo", "run", "-q", "--release", "-p", "underscore-render", "--bin",
                    "underscore", "--", "render", "--dialogue", str(m / "dialogue.flac"),
                    "--bed", str(m / f"{bed}.flac"), "-o", str(out), "--set", "mode=spectral",
                    "--json", str(js)], cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    import soundfile as sf
    report = json.load(open(js))
    gt = json.load(open(m / "ground_truth.json"))
    d, rate = sf.read(str(m / "dialogue.flac"), always_2d=True)
    o, _ = sf.read(str(m / f"{bed}.flac"), always_2d=True)
    k, _ = sf.read(str(out), always_2d=True)
    n = min(len(d), len(o), len(k))
    d, o, k = d[:n].mean(axis=1), o[:n], k[:n]
    mask = sr_.speaking_mask(d, gt, rate)
    centres = [b["centre_hz"] for b in report["bands"]]
    pd, po, pk = (sr_.tiled_band_powers(x, rate, centres, 500, 4000, mask)
                  for x in (d[:, None], o, k))
    offline = [float(np.mean(10 * np.log10(pd / p))) for p in (po, pk)]
    r = report["speech_band_ratio_db"]
    return [r["before"], r["after"]], offline


def test_dialogue_to_bed_readout_agrees_with_the_stems(tmp_path):
    print("\nDialogue-to-bed, 500 Hz-4 kHz (report = editor's code; offline on the stems), dB")
    bad = []
    for scene in SCENES:
        bed = json.load(open(MATERIAL / scene / "ground_truth.json"))["primary_bed"]
        (rb, ra), (ob, oa) = readout(scene, bed, tmp_path)
        print("%-26s before report %+6.2f offline %+6.2f   after report %+6.2f offline %+6.2f" % (
            scene, rb, ob, ra, oa))
        for what, a, b in (("before", rb, ob), ("after", ra, oa)):
            if abs(a - b) > READOUT_TOLERANCE_DB:
                bad.append(f"{scene} {what}: report {a:+.2f} dB, offline {b:+.2f} dB")
    assert not bad, "; ".join(bad)
