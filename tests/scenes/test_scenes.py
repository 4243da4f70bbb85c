"""Scenario tests on real audio: the four development scenes of ../shared/material rendered
through the built plugin (CLAP ABI, default parameters) and scored with the shared evaluate.py.

Acceptance of the dialogue-aware ducking (issue 3), per scene and bed:
- ESTOI of dialogue over the ducked bed higher than over the original bed;
- no pumping: 0 release/re-attack cycles deeper than 3 dB inside runs with short gaps;
- no false triggers: breaths / clicks on the key reduce the bed by < 1 dB;
- onset protection: >= 90 % of the speech reduction in the first 50 ms of each phrase whose
  dialogue is audible there (reaches the Threshold within those 50 ms; a phrase that starts
  below it is reported, not asserted: no level-keyed design can see it);
- bed untouched after Release: < 0.5 dB mean reduction in frames more than Hold + Release after
  speech and more than the Lookahead before the next phrase.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
MATERIAL = Path(os.environ.get("UNDERSCORE_MATERIAL", ROOT.parent / "shared" / "material"))
TOOLS = Path(os.environ.get("UNDERSCORE_TOOLS", MATERIAL.parent / "tools"))
THRESHOLD_DB = -45.0
HOLD_S, RELEASE_S, LOOKAHEAD_S = 0.150, 0.500, 0.080

pytestmark = pytest.mark.skipif(
    not (MATERIAL / "s1_drama_orchestral").is_dir() or not (TOOLS / "evaluate.py").is_file(),
    reason=f"scene material not found at {MATERIAL}",
)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("scenes")
    subprocess.run(
        ["cargo", "run", "-q", "--release", "-p", "underscore-tests", "--bin", "render-scenes",
         "--", "--material", str(MATERIAL), "--out", str(out)],
        cwd=ROOT, check=True)
    sys.path.insert(0, str(TOOLS))
    import soundfile as sf
    from evaluate import evaluate

    manifest = json.load(open(out / "manifest.json"))
    results = {}
    for r in manifest["renders"]:
        gt = json.load(open(r["ground_truth"]))
        d, sr = sf.read(r["dialogue"], always_2d=True)
        o, _ = sf.read(r["bed_original"], always_2d=True)
        k, _ = sf.read(r["bed_ducked"], always_2d=True)
        lat = r["latency_samples"]
        res = evaluate(d, o, k, gt, sr, lat, HOLD_S + RELEASE_S)
        k = k[lat:]
        res["_per_phrase"] = per_phrase_onsets(d[: len(k)], o[: len(k)], k, gt, sr)
        res["_after_release"] = reduction_after_release(o[: len(k)], k, gt, sr)
        results[(r["scene"], r["bed"])] = res
    return results


def frame_db(x, sr, start, length):
    a, b = int(start * sr), int((start + length) * sr)
    return 10 * np.log10(np.mean(x[a:b] ** 2) + 1e-20)


def per_phrase_onsets(d, o, k, gt, sr):
    """(phrase start, key audible in its first 50 ms?, onset reduction dB) for every phrase.

    "Audible" uses the plugin's own Threshold meaning: the dialogue's 100-2000 Hz RMS (the band
    its level detector measures) in 10 ms frames reaches -45 dBFS."""
    from scipy.signal import butter, sosfilt

    band = sosfilt(butter(2, [100, 2000], "bandpass", fs=sr, output="sos"), d.mean(axis=1))
    rows = []
    for ph in gt["phrases"]:
        s = ph["start"]
        audible = max(frame_db(band, sr, s + t, 0.010) for t in np.arange(0, 0.045, 0.005))
        red = frame_db(o, sr, s, 0.05) - frame_db(k, sr, s, 0.05)
        rows.append((s, audible > THRESHOLD_DB, red))
    return rows


def reduction_after_release(o, k, gt, sr):
    """Mean reduction in 20 ms frames clear of speech, its hold + release, and the lookahead."""
    keep = []
    speech = gt["speech_intervals"]
    for t in np.arange(0, len(k) / sr - 0.02, 0.01):
        c = t + 0.01
        if any(s - LOOKAHEAD_S <= c < e + HOLD_S + RELEASE_S for s, e in speech):
            continue
        po = frame_db(o, sr, t, 0.02)
        if po > -80:
            keep.append(po - frame_db(k, sr, t, 0.02))
    return float(np.mean(keep)) if keep else 0.0


def test_estoi_improves_everywhere(rendered):
    for key, r in rendered.items():
        print(key, "ESTOI %.3f -> %.3f" % (r["estoi_orig"], r["estoi_ducked"]))
        assert r["estoi_ducked"] > r["estoi_orig"], key


def test_no_pumping(rendered):
    for key, r in rendered.items():
        print(key, "pumping cycles", r["pumping_cycles"], "in", r["pumping_runs_checked"], "runs")
        assert r["pumping_cycles"] == 0, key


def test_no_false_triggers_on_breaths_and_clicks(rendered):
    checked = 0
    for key, r in rendered.items():
        if r["false_trigger_events"]:
            checked += 1
            print(key, "false triggers mean %.2f dB max %.2f dB" % (
                r["false_trigger_mean_db"], r["false_trigger_max_db"]))
            assert r["false_trigger_mean_db"] < 1.0 and r["false_trigger_max_db"] < 1.0, key
    assert checked > 0, "no scene with breath/click events was checked"


def test_onsets_are_protected(rendered):
    for key, r in rendered.items():
        target = r["reduction_speech_db"]
        for start, audible, red in r["_per_phrase"]:
            print(key, "phrase %.2f s: %s, %.1f dB of %.1f dB" % (
                start, "audible" if audible else "starts below Threshold", red, target))
            if audible:
                assert red >= 0.9 * target, (key, start, red, target)


def test_bed_untouched_once_release_has_elapsed(rendered):
    for key, r in rendered.items():
        print(key, "mean reduction after release %.2f dB (evaluate.py, guard hold+release, "
              "pre-onset frames included: %.2f dB)" % (r["_after_release"],
                                                      r["reduction_nonspeech_guarded_db"]))
        assert r["_after_release"] < 0.5, key
