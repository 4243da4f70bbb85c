"""Underscore's VST3 in real third-party hosts from PyPI.

DawDreamer routes a sidechain, so it checks the ducking itself: a stereo bed keyed by the demo's
speech settles at Depth and comes back after Hold + Release. pedalboard cannot feed an
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


def demo_speech(start_s, end_s):
    """The bundled demo dialogue (two espeak-ng voices, CC0) from `start_s` to `end_s`, mono:
    the key must be speech for the voice detector (a tone on the key is not, as it should be)."""
    import soundfile as sf

    x, sr = sf.read(str(ROOT / "demo" / "dialogue.wav"), dtype="float32", always_2d=True)
    assert sr == SR
    return x[int(start_s * SR):int(end_s * SR), 0]


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


LATENCY = 4_800  # default Lookahead 100 ms at 48 kHz


def test_dawdreamer_sidechain_ducks_to_depth_and_releases(vst3_path):
    # 0.5 s of silence, 2 s of the demo's speech (3.0-5.0 s: one voice, two sentences), silence.
    n = 5 * SR
    bed = np.stack([tone(200, 0.5, n)] * 2)
    speech = demo_speech(3.0, 5.0)
    key = np.zeros((2, n), np.float32)
    key[:, SR // 2:SR // 2 + len(speech)] = speech
    out, inputs, reported_latency = render_dawdreamer(vst3_path, bed, key)
    assert inputs == 4, "main stereo + stereo Dialogue aux"
    assert reported_latency == LATENCY
    # DawDreamer does not compensate latency here: compare output with the bed it carries,
    # 1.2-2.0 s into the key (inside the speech).
    a, b = int(1.2 * SR) + LATENCY, int(2.0 * SR) + LATENCY
    settled = rms_db(out[0, a:b]) - rms_db(bed[0, a - LATENCY:b - LATENCY])
    assert abs(settled - (-10.0)) < 0.5, f"settled at {settled:.2f} dB, expected -10 dB"
    # After the speech: Hold 150 ms, the conversation hold (up to 600 ms more: the 0.5 s of
    # silence before the line counts as a short pause) and Release 500 ms, +10 %: the bed is
    # back at 0 dB.
    t = SR // 2 + len(speech) + LATENCY + int((0.15 + 0.6 + 0.5) * 1.1 * SR)
    restored = rms_db(out[0, t:t + 4_800]) - rms_db(bed[0, t - LATENCY:t + 4_800 - LATENCY])
    assert abs(restored) < 0.1, f"bed at {restored:.2f} dB after release"


def test_dawdreamer_depth_parameter_is_followed(vst3_path):
    n = 2 * SR
    bed = np.stack([tone(200, 0.5, n)] * 2)
    key = np.stack([demo_speech(3.0, 5.0)] * 2)
    # Depth -20 dB: normalized (value - min) / (max - min) with range -40..0 dB.
    out, _, _ = render_dawdreamer(vst3_path, bed, key, {"Depth": 0.5})
    a, b = int(0.8 * SR) + LATENCY, int(1.6 * SR) + LATENCY
    settled = rms_db(out[0, a:b]) - rms_db(bed[0, a - LATENCY:b - LATENCY])
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
