"""Linked buses (issue 15) on the four development scenes: music and ambience rendered linked by
the render CLI (`--bed music --role music -o .. --bed ambience --role ambience -o ..`, Spectral
mode defaults) against the same beds rendered each on its own.

Asserted per scene, during speech:

* **equal loudness cost**: the ESTOI of the dialogue over the linked sum (music + ambience) is
  at least the ESTOI of the unlinked pair at the same loudness cost of the sum. The unlinked
  pair is rendered at Clarity 20, 25 and 30 dB (a curve of cost against ESTOI, linear between
  the points); the cost is the summed bed's ungated K-weighted (BS.1770 filter) level over the
  speech intervals, after minus before. ESTOI is compared to ESTOI_RESOLUTION: renders whose
  cost differs by 0.01 dB move ESTOI by about 0.001, so a smaller margin is not a difference.
* **music first**: over the speech band-frames where the group needed a cut that the music
  could make on its own and made at least 3 dB of it (the linked render's JSON,
  `first_role_enough`), the ambience loses at least 3 dB less than the music;
* **the group readout is trustworthy**: the linked render's dialogue-to-bed figure on the sum
  (500 Hz-4 kHz, the code the editor's group readout uses) agrees within 1 dB with an offline
  measurement of the same definition on the summed rendered stems.

Run with `-s` for the tables. Missing material or tools are failures, not skips.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "scenes"))
import spectral_report as sr_  # noqa: E402
from spectral_report import MATERIAL, SCENES  # noqa: E402

CURVE_CLARITIES_DB = (20, 25, 30)
ESTOI_RESOLUTION = 0.002
MUSIC_FIRST_MARGIN_DB = 3.0
READOUT_TOLERANCE_DB = 1.0


def test_material_and_tools_are_present():
    sr_.check_material()


def cli(*args):
    subprocess.run(["cargo", "run", "-q", "--release", "-p", "underscore-render", "--bin",
                    "underscore", "--", "render", "-q", *map(str, args)],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def read(path):
    x, rate = sf.read(str(path), always_2d=True)
    return x, rate


@pytest.fixture(scope="module")
def evaluate():
    return sr_.evaluate_function()


@pytest.fixture(scope="module")
def figures(tmp_path_factory, evaluate):
    """Every render and its figures, computed once."""
    out = {}
    for scene in SCENES:
        m = MATERIAL / scene
        d = tmp_path_factory.mktemp(scene)
        dx = m / "dialogue.flac"
        gt = json.load(open(m / "ground_truth.json"))
        dialogue, rate = read(dx)
        music, _ = read(m / "music.flac")
        amb, _ = read(m / "ambience.flac")
        before = music + amb
        mask = sr_.speech_mask(gt, len(dialogue), rate)

        def cost_and_estoi(ducked):
            cost = sr_.k_weighted_db(ducked, rate, mask) - sr_.k_weighted_db(before, rate, mask)
            return cost, evaluate(dialogue, before, ducked, gt, rate)

        curve = []
        for c in CURVE_CLARITIES_DB:
            outs = []
            for bed in ("music", "ambience"):
                o = d / f"{bed}_cl{c}.wav"
                cli("--dialogue", dx, "--bed", m / f"{bed}.flac", "-o", o,
                    "--set", "mode=spectral", "--set", f"clarity={c}")
                outs.append(read(o)[0])
            cost, e = cost_and_estoi(outs[0] + outs[1])
            curve.append((c, cost, e["estoi_ducked"]))
        lm, la, js = d / "music_linked.wav", d / "ambience_linked.wav", d / "linked.json"
        cli("--dialogue", dx, "--bed", m / "music.flac", "--role", "music", "-o", lm,
            "--bed", m / "ambience.flac", "--role", "ambience", "-o", la,
            "--set", "mode=spectral", "--json", js)
        km, ka = read(lm)[0], read(la)[0]
        ducked = km + ka
        cost, e = cost_and_estoi(ducked)
        report = json.load(open(js))
        # The group readout against the summed stems (as test_spectral.py's readout test).
        speaking = sr_.speaking_mask(dialogue, gt, rate)
        centres = [b["centre_hz"] for b in report["beds"][0]["bands"]]
        pd, po, pk = (sr_.tiled_band_powers(x, rate, centres, 500, 4000, speaking)
                      for x in (dialogue.mean(axis=1)[:, None], before, ducked))
        offline = [float(np.mean(10 * np.log10(pd / p))) for p in (po, pk)]
        out[scene] = dict(curve=curve, cost=cost, estoi=e["estoi_ducked"],
                          estoi_orig=e["estoi_orig"], first=report["first_role_enough"],
                          readout=report["combined_speech_band_ratio_db"], offline=offline,
                          music_db=sr_.k_weighted_db(km, rate, mask)
                          - sr_.k_weighted_db(music, rate, mask),
                          ambience_db=sr_.k_weighted_db(ka, rate, mask)
                          - sr_.k_weighted_db(amb, rate, mask))
    print_tables(out)
    return out


def curve_estoi(curve, cost_db):
    """ESTOI of the unlinked curve at `cost_db`, linear between the bracketing Clarities (the
    end points beyond them)."""
    return sr_.curve_at([(c, e) for _, c, e in curve], cost_db)


def print_tables(out):
    print("\n\nLinked (Spectral defaults) against the unlinked pair's Clarity curve, music + "
          "ambience")
    print("%-26s %9s %9s %11s %8s  %s" % ("scene", "cost dB", "ESTOI", "ESTOI curve", "margin",
                                          "curve (Clarity: cost dB, ESTOI)"))
    for scene, f in out.items():
        ce = curve_estoi(f["curve"], f["cost"])
        print("%-26s %9.3f %9.4f %11.4f %+8.4f  %s" % (
            scene, f["cost"], f["estoi"], ce, f["estoi"] - ce,
            ", ".join("%d: %.3f, %.4f" % p for p in f["curve"])))
    print("\nWhere the music alone met the target and cut >= 3 dB (linked): mean cut, dB")
    for scene, f in out.items():
        r = f["first"]
        print("%-26s %6d band-frames: music %.2f, ambience %.2f   (music overall %+.2f dB, "
              "ambience overall %+.2f dB)" % (
                  scene, r["band_frames_cut_3db"], *r["mean_reduction_cut_3db_db"],
                  f["music_db"], f["ambience_db"]))
    print("\nDialogue-to-bed on the sum, 500 Hz-4 kHz (render = the group readout's code; "
          "offline on the summed stems), dB")
    for scene, f in out.items():
        print("%-26s before render %+6.2f offline %+6.2f   after render %+6.2f offline %+6.2f" % (
            scene, f["readout"]["before"], f["offline"][0], f["readout"]["after"],
            f["offline"][1]))


def test_linked_is_as_intelligible_as_unlinked_at_equal_cost(figures):
    for scene, f in figures.items():
        ce = curve_estoi(f["curve"], f["cost"])
        assert f["estoi"] >= ce - ESTOI_RESOLUTION, (
            f"{scene}: linked ESTOI {f['estoi']:.4f} at {f['cost']:.3f} dB, unlinked curve "
            f"{ce:.4f} there")
        assert f["estoi"] > f["estoi_orig"], scene


def test_the_music_yields_first(figures):
    for scene, f in figures.items():
        r = f["first"]
        assert r["band_frames_cut_3db"] > 0, f"{scene}: no band-frame where the music did it"
        music, amb = r["mean_reduction_cut_3db_db"]
        assert amb <= music - MUSIC_FIRST_MARGIN_DB, (
            f"{scene}: music {music:.2f} dB, ambience {amb:.2f} dB")


def test_group_readout_agrees_with_the_summed_stems(figures):
    bad = []
    for scene, f in figures.items():
        for what, a, b in (("before", f["readout"]["before"], f["offline"][0]),
                           ("after", f["readout"]["after"], f["offline"][1])):
            if abs(a - b) > READOUT_TOLERANCE_DB:
                bad.append(f"{scene} {what}: render {a:+.2f} dB, offline {b:+.2f} dB")
    assert not bad, "; ".join(bad)
