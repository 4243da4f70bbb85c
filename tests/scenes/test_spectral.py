"""Spectral (masking-aware) mode on the four development scenes (issue 4), against Broadband
mode at the same Depth (default parameters, primary beds), through the built plugin.

Per scene, during speech (figures from spectral_report.py, which also prints the table):
- the bed below 120 Hz and above 10 kHz changes by less than 1 dB;
- in the third-octave bands 500 Hz-4 kHz the dialogue (at its soft level, the level Clarity is
  defined against) stands Clarity +-2 dB over the bed, or the band is at the Depth limit;
- the bed loses less loudness (BS.1770, ungated) than with Broadband ducking;
- ESTOI is above the original's, and within 0.01 of the best any bass-keeping mode can reach
  (Broadband's render with the bed below 120 Hz put back). ESTOI >= Broadband itself is not
  asserted: restoring the untouched bass alone costs Broadband's render up to 0.023 ESTOI on
  these scenes, so keeping the bass (required above) rules it out; see dsp/README.md.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MATERIAL = Path(os.environ.get("UNDERSCORE_MATERIAL", ROOT.parent / "shared" / "material"))
TOOLS = Path(os.environ.get("UNDERSCORE_TOOLS", MATERIAL.parent / "tools"))

pytestmark = pytest.mark.skipif(
    not (MATERIAL / "s1_drama_orchestral").is_dir() or not (TOOLS / "evaluate.py").is_file(),
    reason=f"scene material not found at {MATERIAL}",
)


def render(out, *settings):
    args = ["cargo", "run", "-q", "--release", "-p", "underscore-tests", "--bin",
            "render-scenes", "--", "--material", str(MATERIAL), "--out", str(out)]
    for s in settings:
        args += ["--set", s]
    subprocess.run(args, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return out / "manifest.json"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    base = tmp_path_factory.mktemp("spectral")
    bb = render(base / "broadband")
    sp = render(base / "spectral", "Mode=Spectral")
    subprocess.run([sys.executable, str(ROOT / "tests" / "scenes" / "spectral_report.py"),
                    str(bb), str(sp), "--tools", str(TOOLS)], check=True)
    return json.load(open(sp.with_name("spectral_report.json")))


def test_bass_and_air_are_kept(report):
    for scene, r in report.items():
        assert abs(r["low"]) < 1.0, f"{scene}: below 120 Hz {r['low']:+.2f} dB"
        assert abs(r["high"]) < 1.0, f"{scene}: above 10 kHz {r['high']:+.2f} dB"


def test_speech_band_reaches_clarity_or_depth(report):
    for scene, r in report.items():
        assert abs(r["worst_miss"]) <= 2.0, f"{scene}: missed Clarity by {r['worst_miss']} dB"
        assert r["needless_cut"] < 1.0, f"{scene}: cut {r['needless_cut']} dB where not needed"


def test_less_loudness_lost_than_broadband(report):
    for scene, r in report.items():
        assert r["lost_sp"] < r["lost_bb"], f"{scene}: {r['lost_sp']} vs {r['lost_bb']} LU"


def test_intelligibility(report):
    for scene, r in report.items():
        assert r["estoi_sp"] > r["estoi_orig"], scene
        assert r["estoi_sp"] >= r["estoi_bound"] - 0.01, (
            f"{scene}: ESTOI {r['estoi_sp']:.3f}, bound {r['estoi_bound']:.3f}")
