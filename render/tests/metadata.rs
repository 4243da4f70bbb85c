//! Post-production metadata through `underscore render`: a BWF bed's `bext` (time reference
//! 01:00:00:00, description, originator, coding history) and `iXML` come out on the ducked
//! bed and on `--mix-output`; each linked bed's output carries its own; FLAC dialogue with an
//! RF64 64-bit float bed renders, and renders like the same samples in a plain WAV.

mod common;

use std::path::Path;

use common::{SR, folder, linked_render_args, run_ok, s, sine, voice, write_wav};
use underscore_io::testing::{chunk, fmt, rf64, riff, write_flac_verbatim};
use underscore_io::{AudioReader, Bext, Metadata, SampleFormat, read_audio};
use underscore_render::job::RenderArgs;
use underscore_render::run::run_render;
/// 01:00:00:00 at 48 kHz, as samples since midnight.
const ONE_HOUR_SAMPLES: u64 = 3_600 * SR as u64;

/// Runs `underscore render -q` with `args` and checks it succeeded.
fn render_ok(args: &[&str]) {
    run_ok(&[&["render", "-q"][..], args].concat());
}

/// A bed tone: `k / 2^16` steps, so every sample is exact in 16, 24 and 32-bit float (and a
/// 64-bit float file of it reads the same samples as a 32-bit one).
fn tone(freq_hz: f32, n: usize) -> Vec<f32> {
    sine(freq_hz, 0.3, n)
        .into_iter()
        .map(|x| (x * 65_536.0).round() / 65_536.0)
        .collect()
}

/// What a recorder or a DAW puts in a bed: 01:00:00:00, names, one history line.
fn bed_bext(description: &str) -> Bext {
    Bext {
        description: description.into(),
        originator: "Pro Tools".into(),
        originator_reference: "USDGN0000000000000042".into(),
        origination_date: "2026-11-30".into(),
        origination_time: "09:15:00".into(),
        time_reference_samples: ONE_HOUR_SAMPLES,
        version: 1,
        coding_history: "A=PCM,F=48000,W=24,M=stereo,T=Pro Tools\r\n".into(),
        ..Bext::default()
    }
}

/// An iXML document of odd length (its chunk is padded).
fn ixml(scene: &str) -> Vec<u8> {
    let doc = format!(
        "<?xml version=\"1.0\"?><BWFXML><SCENE>{scene}</SCENE><TAKE>3</TAKE>\
         <SPEED><TIMECODE_RATE>25/1</TIMECODE_RATE></SPEED></BWFXML>"
    );
    let mut b = doc.into_bytes();
    if b.len() % 2 == 0 {
        b.push(b'\n');
    }
    b
}

/// A 24-bit stereo BWF written byte by byte as a DAW lays it out: `bext` first, then `fmt `,
/// `iXML`, `data`.
fn write_bwf(path: &Path, left: &[f32], right: &[f32], bext: &Bext, ixml: &[u8]) {
    let data: Vec<u8> = left
        .iter()
        .zip(right)
        .flat_map(|(&l, &r)| {
            [l, r]
                .into_iter()
                .flat_map(|x| ((x * 8_388_608.0).round() as i32).to_le_bytes()[..3].to_vec())
        })
        .collect();
    let file = riff(&[
        chunk(b"bext", &bext.to_bytes()),
        chunk(b"fmt ", &fmt(1, 2, SR, 24, 3)),
        chunk(b"iXML", ixml),
        chunk(b"data", &data),
    ]);
    std::fs::write(path, file).unwrap();
}

/// Checks that `output` carries `bed`'s metadata: the same time reference, description,
/// originator and iXML bytes, the bed's coding history plus one line for this render.
fn assert_carries(output: &Path, bed: &Metadata) {
    let out = AudioReader::open(output).unwrap();
    let got = out.metadata();
    let (b, want) = (
        got.bext
            .as_ref()
            .unwrap_or_else(|| panic!("{}: no bext", output.display())),
        bed.bext.as_ref().unwrap(),
    );
    assert_eq!(got.time_reference_samples(), Some(ONE_HOUR_SAMPLES));
    assert_eq!(b.time_reference_samples, want.time_reference_samples);
    assert_eq!(b.description, want.description);
    assert_eq!(b.originator, want.originator);
    assert_eq!(b.originator_reference, want.originator_reference);
    assert_eq!(
        (b.origination_date.as_str(), b.origination_time.as_str()),
        (
            want.origination_date.as_str(),
            want.origination_time.as_str()
        )
    );
    assert_eq!(
        b.coding_history,
        format!(
            "{}A=PCM,F=48000,W=32,M=stereo,T=Underscore {}\r\n",
            want.coding_history,
            env!("CARGO_PKG_VERSION")
        )
    );
    assert_eq!(got.ixml, bed.ixml, "{}: iXML bytes", output.display());
}

#[test]
fn bwf_bed_metadata_comes_out_on_the_ducked_bed_and_the_mix() {
    let dir = folder("bwf");
    let n = 2 * SR as usize;
    let dx = dir.join("dx.wav");
    write_wav(&dx, SR, &[voice(n)], SampleFormat::Int24);
    let bed = dir.join("mx.wav");
    let bext = bed_bext("Sc 42 score, cue 3M2");
    write_bwf(&bed, &tone(300.0, n), &tone(450.0, n), &bext, &ixml("42"));
    let bed_meta = AudioReader::open(&bed).unwrap().metadata().clone();
    assert_eq!(
        bed_meta.bext.as_ref(),
        Some(&bext),
        "the bed itself reads back"
    );

    let out = dir.join("mx_ducked.wav");
    let mix = dir.join("mix.wav");
    render_ok(&[
        "--dialogue",
        s(&dx),
        "--bed",
        s(&bed),
        "-o",
        s(&out),
        "--mix-output",
        s(&mix),
    ]);
    assert_carries(&out, &bed_meta);
    assert_carries(&mix, &bed_meta);
    // The audio is the bed's length and was ducked under the speech (about -9 dB of energy
    // over the 2 s; the metadata chunks did not displace it).
    let ducked = read_audio(&out).unwrap();
    assert_eq!((ducked.frames(), ducked.channels.len()), (n, 2));
    let input_energy: f32 = tone(300.0, n).iter().map(|v| v * v).sum();
    let output_energy: f32 = ducked.channels[0].iter().map(|v| v * v).sum();
    assert!(
        output_energy < 0.5 * input_energy,
        "not ducked: {output_energy} of {input_energy}"
    );

    // The report gives the timecode work the bed's time reference; 0 for a plain bed.
    let report = run_render(&RenderArgs::new(&dx, &bed, &dir.join("lib.wav"))).unwrap();
    assert_eq!(report.timing.start_samples, ONE_HOUR_SAMPLES);
    let plain = dir.join("plain.wav");
    write_wav(
        &plain,
        SR,
        &[tone(300.0, n), tone(450.0, n)],
        SampleFormat::Int16,
    );
    let plain_out = dir.join("plain_ducked.wav");
    let report = run_render(&RenderArgs::new(&dx, &plain, &plain_out)).unwrap();
    assert_eq!(report.timing.start_samples, 0);
    assert!(AudioReader::open(&plain_out).unwrap().metadata().is_empty());
}

#[test]
fn linked_beds_each_keep_their_own_metadata() {
    let dir = folder("linked");
    let n = 2 * SR as usize;
    let dx = dir.join("dx.wav");
    write_wav(&dx, SR, &[voice(n)], SampleFormat::Float32);
    let (music, amb) = (dir.join("music.wav"), dir.join("amb.wav"));
    write_bwf(
        &music,
        &tone(300.0, n),
        &tone(310.0, n),
        &bed_bext("3M2 score"),
        &ixml("music"),
    );
    let mut amb_bext = bed_bext("Kitchen room tone");
    amb_bext.originator = "Sound Devices 888".into();
    write_bwf(
        &amb,
        &tone(700.0, n),
        &tone(710.0, n),
        &amb_bext,
        &ixml("amb"),
    );
    let (music_out, amb_out) = (dir.join("music_ducked.wav"), dir.join("amb_ducked.wav"));
    run_ok(&linked_render_args(
        &dx,
        &[(&music, "music", &music_out), (&amb, "ambience", &amb_out)],
        &["-q"],
    ));
    assert_carries(&music_out, AudioReader::open(&music).unwrap().metadata());
    assert_carries(&amb_out, AudioReader::open(&amb).unwrap().metadata());
    let originator = |p: &Path| {
        AudioReader::open(p)
            .unwrap()
            .metadata()
            .bext
            .clone()
            .unwrap()
            .originator
    };
    assert_eq!(originator(&amb_out), "Sound Devices 888");
    assert_eq!(originator(&music_out), "Pro Tools");
}

/// An RF64 file of 64-bit float stereo samples with a `bext` chunk.
fn write_rf64_f64(path: &Path, left: &[f32], right: &[f32], bext: &Bext) {
    let data: Vec<u8> = left
        .iter()
        .zip(right)
        .flat_map(|(&l, &r)| [l as f64, r as f64].into_iter().flat_map(f64::to_le_bytes))
        .collect();
    let file = rf64(
        b"RF64",
        &fmt(3, 2, SR, 64, 8),
        &data,
        &[chunk(b"bext", &bext.to_bytes())],
    );
    std::fs::write(path, file).unwrap();
}

#[test]
fn flac_dialogue_with_an_rf64_float64_bed_renders_like_plain_files() {
    let dir = folder("rf64");
    let n = 2 * SR as usize;
    let (left, right) = (tone(300.0, n), tone(450.0, n));
    let speech = voice(n);
    // FLAC dialogue (24-bit), RF64 64-bit float bed with a time reference.
    let dx_flac = dir.join("dx.flac");
    write_flac_verbatim(&dx_flac, SR, 24, std::slice::from_ref(&speech)).unwrap();
    let bed_rf64 = dir.join("mx_rf64.wav");
    let bext = bed_bext("RF64 bed");
    write_rf64_f64(&bed_rf64, &left, &right, &bext);
    let out = dir.join("from_rf64.wav");
    render_ok(&[
        "--dialogue",
        s(&dx_flac),
        "--bed",
        s(&bed_rf64),
        "-o",
        s(&out),
    ]);
    let got = AudioReader::open(&out).unwrap();
    assert_eq!(
        got.metadata().time_reference_samples(),
        Some(ONE_HOUR_SAMPLES)
    );
    assert_eq!(
        got.metadata().bext.as_ref().unwrap().description,
        "RF64 bed"
    );
    // The same samples as plain 32-bit float WAVs render the same output, sample for sample.
    let dx_wav = dir.join("dx.wav");
    let dialogue = read_audio(&dx_flac).unwrap().channels;
    write_wav(&dx_wav, SR, &dialogue, SampleFormat::Float32);
    let bed_wav = dir.join("mx.wav");
    write_wav(
        &bed_wav,
        SR,
        &[left.clone(), right.clone()],
        SampleFormat::Float32,
    );
    assert_eq!(read_audio(&bed_rf64).unwrap().channels, vec![left, right]);
    let reference = dir.join("from_wav.wav");
    render_ok(&[
        "--dialogue",
        s(&dx_wav),
        "--bed",
        s(&bed_wav),
        "-o",
        s(&reference),
    ]);
    let (a, b) = (read_audio(&out).unwrap(), read_audio(&reference).unwrap());
    assert_eq!(a.frames(), n);
    assert_eq!(a, b);
}
