#!/usr/bin/env python3
"""Scores the beds that `render-scenes` ducked through the plugin, with the shared evaluate.py.

usage: evaluate_scenes.py [--manifest out/scenes/manifest.json] [--tools ../shared/tools]
                          [--json results.json] [--markdown table.md]

Prints the same table as the shared run_baseline.py (one row per scene and bed, primary bed
marked *), with the plugin's reported latency compensated.
"""
import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--manifest", default=str(ROOT / "out" / "scenes" / "manifest.json"))
    ap.add_argument("--tools", default=str(ROOT.parent / "shared" / "tools"))
    ap.add_argument("--json")
    ap.add_argument("--markdown")
    a = ap.parse_args()
    sys.path.insert(0, os.path.abspath(a.tools))
    import soundfile as sf
    from evaluate import evaluate
    from run_baseline import HDR, row

    manifest = json.load(open(a.manifest))
    rows, results = [], {}
    for r in manifest["renders"]:
        gt = json.load(open(r["ground_truth"]))
        d, sr = sf.read(r["dialogue"], always_2d=True)
        o, _ = sf.read(r["bed_original"], always_2d=True)
        k, _ = sf.read(r["bed_ducked"], always_2d=True)
        res = evaluate(d, o, k, gt, sr, r["latency_samples"], 0.5)
        res["latency_samples"] = r["latency_samples"]
        results["%s/%s" % (r["scene"], r["bed"])] = res
        rows.append(row(gt, r["bed"], res))
    table = HDR + "\n" + "\n".join(rows)
    print(table)
    if a.markdown:
        Path(a.markdown).write_text(table + "\n")
    if a.json:
        json.dump({"settings": manifest.get("settings", {}), "results": results},
                  open(a.json, "w"), indent=1)


if __name__ == "__main__":
    main()
