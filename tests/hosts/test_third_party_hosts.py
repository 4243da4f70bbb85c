"""Underscore's VST3 in real third-party hosts from PyPI.

DawDreamer routes a sidechain, so it checks the ducking itself: a stereo bed keyed by a stereo
dialogue stem settles at Depth and comes back after Hold + Release. pedalboard cannot feed an
auxiliary input (it drives the main bus only), so there it checks what that host can see:
loading, parameter names and units, a reported latency the host compensates to the sample, and
a bed that passes untouched when the key is silent.

Run after `cargo xtask bundle underscore --release`; `UNDERSCORE_VST3` overrides the bundle path.
"""

import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
VST3 = Path(os.environ.get("UNDERSCORE_VST3", ROOT / "target" / "bundled" / "Underscore.vst3"))
SR = 48_000
BLOCK = 512


def rms_db(x):
    return 10.0 * np.log10(np.mean(np.asarray(x, np.float64) ** 2) + 1e-30)


def tone(freq_hz, amp, n):
    t = np.arange(n) / SR
    return (amp * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


@pytest.fixture(scope="module")
def vst3_path():
    assert VST3.exists(), f"{VST3} missing: run `cargo xtask bundle underscore --release` first"
    return str(VST3)


def render_dawdreamer(vst3_path, bed, key, params=None):
    import dawdreamer as daw

    engine = daw.RenderEngine(SR, BLOCK)
    bed_proc = engine.make_playback_processor("bed", bed)
    key_proc = engine.make_playback_processor("dialogue", key)
    fx = engine.make_plugin_processor("underscore", vst3_path)
    names = {p["name"]: p["index"] for p in fx.get_plugin_parameters_description()}
    for name, normalized in (params or {}).items():
        fx.set_parameter(names[name], normalized)
    engine.load_graph([(bed_proc, []), (key_proc, []), (fx, ["bed", "dialogue"])])
    engine.render(bed.shape[1] / SR)
    # Read everything needed from the processor while its engine is alive: DawDreamer's
    # processors dangle (and segfault) once the engine is collected.
    return engine.get_audio(), fx.get_num_input_channels(), fx.get_latency_samples()


def test_dawdreamer_sidechain_ducks_to_depth_and_releases(vst3_path):
    n = 2 * SR
    bed = np.stack([tone(200, 0.5, n)] * 2)
    key = np.zeros((2, n), np.float32)
    key[:, : n // 2] = tone(1000, 0.3, n // 2)
    out, inputs, reported_latency = render_dawdreamer(vst3_path, bed, key)
    assert inputs == 4, "main stereo + stereo Dialogue aux"
    latency = 3_840  # default lookahead 80 ms at 48 kHz
    assert reported_latency == latency
    # DawDreamer does not compensate latency here: compare output with the bed it carries.
    settled = rms_db(out[0, 20_000:24_000]) - rms_db(bed[0, 20_000 - latency : 24_000 - latency])
    assert abs(settled - (-10.0)) < 0.5, f"settled at {settled:.2f} dB, expected -10 dB"
    # Hold 150 ms + Release 500 ms (+10 %) after the key stops, the bed is back at 0 dB.
    t = n // 2 + latency + int(0.65 * 1.1 * SR)
    restored = rms_db(out[0, t : t + 4_800]) - rms_db(bed[0, t - latency : t + 4_800 - latency])
    assert abs(restored) < 0.1, f"bed at {restored:.2f} dB after release"


def test_dawdreamer_depth_parameter_is_followed(vst3_path):
    n = SR
    bed = np.stack([tone(200, 0.5, n)] * 2)
    key = np.stack([tone(1000, 0.3, n)] * 2)
    # Depth -20 dB: normalized (value - min) / (max - min) with range -40..0 dB.
    out, _, _ = render_dawdreamer(vst3_path, bed, key, {"Depth": 0.5})
    settled = rms_db(out[0, 30_000:40_000]) - rms_db(bed[0, 26_160:36_160])
    assert abs(settled - (-20.0)) < 0.5, f"settled at {settled:.2f} dB, expected -20 dB"


def test_pedalboard_loads_reports_latency_and_passes_bed_without_key(vst3_path):
    import pedalboard

    plugin = pedalboard.load_plugin(vst3_path)
    assert plugin.name == "Underscore"
    expected = {"depth_db", "threshold_db", "attack_ms", "hold_ms", "release_ms",
                "lookahead_ms", "mix", "output_db", "bypass"}
    assert expected <= set(plugin.parameters.keys())
    assert plugin.parameters["depth_db"].label.strip() == "dB"
    assert plugin.parameters["release_ms"].label.strip() == "ms"

    n = SR
    impulse = np.zeros((2, n), np.float32)
    impulse[:, 1_000] = 1.0
    for lookahead_ms, latency in ((20.0, 960), (50.0, 2_400)):
        plugin.lookahead_ms = lookahead_ms
        out = plugin.process(impulse, SR, buffer_size=BLOCK, reset=True)
        assert plugin.reported_latency_samples == latency
        # pedalboard compensates the reported latency: the impulse stays where it was.
        assert int(np.argmax(np.abs(out[0]))) == 1_000
        assert abs(float(out[0, 1_000]) - 1.0) < 1e-6

    bed = np.stack([tone(200, 0.5, n)] * 2)
    plugin.depth_db = -20.0
    out = plugin.process(bed, SR, buffer_size=BLOCK, reset=True)
    # No key reaches the aux input in pedalboard: the bed must pass untouched (< 0.01 dB).
    assert abs(rms_db(out[:, 4_800:]) - rms_db(bed[:, 4_800:])) < 0.01
