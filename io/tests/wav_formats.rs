//! WAV variants written byte by byte in the tests (64-bit float, WAVE_FORMAT_EXTENSIBLE of
//! every supported sub-format, 8-bit, RF64 and BW64 with their `ds64` chunk, chunks after the
//! audio), read back sample for sample; BWF metadata (`bext`, `iXML`) through the writer and
//! the reader, byte for byte; the writer's plain header the same bytes hound wrote.

use std::path::{Path, PathBuf};

use underscore_io::testing::{chunk, fmt, rf64, riff};
use underscore_io::{
    AudioReader, Bext, Container, Metadata, SampleFormat, WavOptions, WavWriter, read_audio,
};

/// A fresh, empty folder for one test.
fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("underscore-io-wav-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A WAVE_FORMAT_EXTENSIBLE `fmt` chunk body (40 bytes) of sub-format `sub` (1 PCM, 3 float).
fn fmt_extensible(sub: u16, channels: u16, container_bits: u16, valid_bits: u16) -> Vec<u8> {
    let mut b = fmt(0xFFFE, channels, 48_000, container_bits, container_bits / 8);
    b.extend_from_slice(&22u16.to_le_bytes());
    b.extend_from_slice(&valid_bits.to_le_bytes());
    b.extend_from_slice(&((1u32 << channels) - 1).to_le_bytes());
    b.extend_from_slice(&sub.to_le_bytes());
    b.extend_from_slice(&[
        0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
    ]);
    b
}

/// Interleaved 64-bit float samples of planar `x`.
fn f64_bytes(x: &[Vec<f64>]) -> Vec<u8> {
    (0..x[0].len())
        .flat_map(|i| x.iter().flat_map(move |c| c[i].to_le_bytes()))
        .collect()
}

fn write(path: &Path, bytes: &[u8]) -> PathBuf {
    std::fs::write(path, bytes).unwrap();
    path.to_path_buf()
}

/// Two channels of 64-bit float values, some not representable as `f32`.
fn doubles() -> Vec<Vec<f64>> {
    let a: Vec<f64> = (0..1_001).map(|i| (i as f64 * 0.013).sin() * 0.7).collect();
    let mut b: Vec<f64> = (0..1_001).map(|i| 1.0 - i as f64 / 500.0).collect();
    b[0] = 0.1; // 0.1 has no exact f32: it reads as 0.1f32, the nearest
    b[1] = 1.5; // beyond full scale, kept (float)
    b[2] = -1e-300; // below f32's range: rounds to -0.0
    vec![a, b]
}

/// What a 64-bit float sample reads as: the nearest `f32` (round to nearest, ties to even).
fn as_f32(x: &[Vec<f64>]) -> Vec<Vec<f32>> {
    x.iter()
        .map(|c| c.iter().map(|&v| v as f32).collect())
        .collect()
}

#[test]
fn float64_wav_reads_every_sample_rounded_to_the_nearest_f32() {
    let d = dir("f64");
    let x = doubles();
    let path = write(
        &d.join("f64.wav"),
        &riff(&[
            chunk(b"fmt ", &fmt(3, 2, 48_000, 64, 8)),
            chunk(b"data", &f64_bytes(&x)),
        ]),
    );
    let r = AudioReader::open(&path).unwrap();
    assert_eq!(
        (r.channels(), r.sample_rate_hz(), r.frames()),
        (2, 48_000, 1_001)
    );
    assert_eq!(
        (
            r.format().container,
            r.format().bits_per_sample,
            r.format().float
        ),
        (Container::Wav, 64, true)
    );
    assert_eq!(r.format().describe(), "WAV, 64-bit float");
    assert!(r.metadata().is_empty());
    let got = read_audio(&path).unwrap().channels;
    assert_eq!(got, as_f32(&x));
    assert_eq!(got[1][0], 0.1f32);
    assert_eq!(got[1][1], 1.5);
    assert_eq!(got[1][2].to_bits(), (-0.0f32).to_bits());
}

#[test]
fn extensible_wavs_of_every_sub_format_read_exactly() {
    let d = dir("ext");
    let frames = 301;
    // Integer ramps across the whole range of each depth, 3 channels (extensible's usual
    // reason), then the value expected: integer / 2^(container bits - 1).
    let ints = |bits: u32| -> Vec<Vec<i64>> {
        let full = 1i64 << (bits - 1);
        (0..3)
            .map(|c| {
                (0..frames as i64)
                    .map(|i| (-full + (i * 2 * full / frames as i64) + c * 7).min(full - 1))
                    .collect()
            })
            .collect()
    };
    for (container_bits, valid_bits) in [(16u16, 16u16), (24, 24), (32, 32), (32, 24), (24, 20)] {
        let vals = ints(container_bits as u32);
        let bytes_per = container_bits as usize / 8;
        // Valid bits below the container: the low bits are zero (left-justified samples).
        let unused = container_bits - valid_bits;
        let data: Vec<u8> = (0..frames)
            .flat_map(|i| {
                vals.iter().flat_map(move |c| {
                    let v = (c[i] >> unused) << unused;
                    v.to_le_bytes()[..bytes_per].to_vec()
                })
            })
            .collect();
        let name = format!("pcm{container_bits}_{valid_bits}.wav");
        let path = write(
            &d.join(&name),
            &riff(&[
                chunk(b"fmt ", &fmt_extensible(1, 3, container_bits, valid_bits)),
                chunk(b"data", &data),
            ]),
        );
        let r = AudioReader::open(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(r.format().bits_per_sample, valid_bits as u32, "{name}");
        assert!(!r.format().float);
        let got = read_audio(&path).unwrap().channels;
        let scale = (1i64 << (container_bits - 1)) as f64;
        for (g, c) in got.iter().zip(&vals) {
            for (i, (&g, &v)) in g.iter().zip(c).enumerate() {
                let v = (v >> unused) << unused;
                assert_eq!(g, (v as f64 / scale) as f32, "{name} sample {i}");
            }
        }
        assert_eq!(got[0][0], -1.0, "{name}: the most negative value is -1.0");
    }
    // IEEE float sub-formats, 32 and 64-bit.
    let x = doubles();
    let data32: Vec<u8> = (0..x[0].len())
        .flat_map(|i| x.iter().flat_map(move |c| (c[i] as f32).to_le_bytes()))
        .collect();
    for (bits, data) in [(32u16, data32), (64, f64_bytes(&x))] {
        let path = write(
            &d.join(format!("float{bits}.wav")),
            &riff(&[
                chunk(b"fmt ", &fmt_extensible(3, 2, bits, bits)),
                chunk(b"data", &data),
            ]),
        );
        let r = AudioReader::open(&path).unwrap();
        assert_eq!(
            (r.format().bits_per_sample, r.format().float),
            (bits as u32, true)
        );
        assert_eq!(
            read_audio(&path).unwrap().channels,
            as_f32(&x),
            "float{bits}"
        );
    }
    // An Ambisonic B-format sub-format GUID is refused by name.
    let mut ambi = fmt_extensible(1, 3, 16, 16);
    ambi[30..40].copy_from_slice(&[0x21, 0x07, 0xD3, 0x11, 0x86, 0x44, 0xC8, 0xC1, 0xCA, 0x00]);
    let path = write(
        &d.join("ambi.wav"),
        &riff(&[chunk(b"fmt ", &ambi), chunk(b"data", &[0; 6])]),
    );
    let e = AudioReader::open(&path).err().unwrap();
    assert!(
        e.problem
            .starts_with("unsupported WAV encoding: WAVE_FORMAT_EXTENSIBLE sub-format")
            && e.to_string().contains("ambi.wav"),
        "{e}"
    );
}

#[test]
fn eight_bit_and_unsupported_encodings() {
    let d = dir("u8");
    let data: Vec<u8> = vec![0, 64, 128, 192, 255];
    let path = write(
        &d.join("u8.wav"),
        &riff(&[
            chunk(b"fmt ", &fmt(1, 1, 44_100, 8, 1)),
            chunk(b"data", &data),
        ]),
    );
    let a = read_audio(&path).unwrap();
    assert_eq!(a.channels, vec![vec![-1.0, -0.5, 0.0, 0.5, 127.0 / 128.0]]);
    // ADPCM: named, with what is supported.
    let path = write(
        &d.join("adpcm.wav"),
        &riff(&[
            chunk(b"fmt ", &fmt(2, 1, 44_100, 4, 1)),
            chunk(b"data", &[0; 4]),
        ]),
    );
    let e = AudioReader::open(&path).err().unwrap();
    assert!(
        e.problem
            .starts_with("unsupported WAV encoding: format tag 0x0002 (ADPCM")
            && e.problem.contains("64-bit IEEE float"),
        "{e}"
    );
    // Float of 16 bits does not exist.
    let path = write(
        &d.join("f16.wav"),
        &riff(&[
            chunk(b"fmt ", &fmt(3, 1, 44_100, 16, 2)),
            chunk(b"data", &[0; 4]),
        ]),
    );
    let e = AudioReader::open(&path).err().unwrap();
    assert!(
        e.problem
            .starts_with("unsupported sample format: 16-bit float"),
        "{e}"
    );
}

fn bwf_bext() -> Bext {
    Bext {
        description: "Sc 42 music bed, cue 3M2".into(),
        originator: "Pro Tools".into(),
        originator_reference: "USDGN000000000000042".into(),
        origination_date: "2026-11-30".into(),
        origination_time: "09:15:00".into(),
        time_reference_samples: 172_800_000,
        version: 2,
        umid: std::array::from_fn(|i| (i * 3) as u8),
        loudness_value: -2310,
        loudness_range: 640,
        max_true_peak_level: -120,
        max_momentary_loudness: -1650,
        max_short_term_loudness: -1900,
        coding_history: "A=PCM,F=48000,W=24,M=stereo,T=Pro Tools\r\n".into(),
    }
}

const IXML: &[u8] = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<BWFXML><PROJECT>Sc42</PROJECT>\
<SCENE>42</SCENE><TAKE>3</TAKE><SPEED><TIMECODE_RATE>24/1</TIMECODE_RATE></SPEED></BWFXML>";

#[test]
fn rf64_and_bw64_read_with_their_ds64_sizes_and_metadata() {
    let d = dir("rf64");
    let x = doubles();
    let data = f64_bytes(&x);
    let bext = bwf_bext();
    let meta_chunks = [chunk(b"bext", &bext.to_bytes()), chunk(b"iXML", IXML)];
    for tag in [b"RF64", b"BW64"] {
        let name = format!("{}.wav", String::from_utf8_lossy(tag));
        let path = write(
            &d.join(&name),
            &rf64(tag, &fmt(3, 2, 48_000, 64, 8), &data, &meta_chunks),
        );
        let r = AudioReader::open(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!((r.channels(), r.frames()), (2, 1_001), "{name}");
        assert_eq!(r.metadata().bext.as_ref(), Some(&bext), "{name}");
        assert_eq!(r.metadata().ixml.as_deref(), Some(IXML), "{name}");
        assert_eq!(r.metadata().time_reference_samples(), Some(172_800_000));
        assert_eq!(read_audio(&path).unwrap().channels, as_f32(&x), "{name}");
    }
    // 8-bit mono RF64 of 3 frames: an odd data size, whose pad byte is not audio.
    let path = write(
        &d.join("odd.wav"),
        &rf64(b"RF64", &fmt(1, 1, 48_000, 8, 1), &[0, 128, 255], &[]),
    );
    assert_eq!(
        read_audio(&path).unwrap().channels,
        vec![vec![-1.0, 0.0, 127.0 / 128.0]]
    );
    // RF64 without its ds64 chunk: refused, not read as 4 GiB of audio.
    let mut bytes = rf64(b"RF64", &fmt(3, 2, 48_000, 64, 8), &data, &[]);
    bytes[12..16].copy_from_slice(b"JUNK");
    let path = write(&d.join("nods64.wav"), &bytes);
    let e = AudioReader::open(&path).err().unwrap();
    assert!(e.problem.contains("RF64 file without a ds64 chunk"), "{e}");
    // Cut inside the audio: the ds64 size is checked like a RIFF one.
    let full = rf64(b"RF64", &fmt(3, 2, 48_000, 64, 8), &data, &[]);
    let path = write(&d.join("cut.wav"), &full[..full.len() - 160]);
    let e = AudioReader::open(&path).err().unwrap();
    assert!(
        e.problem.starts_with(
            "truncated: the header announces 1001 frames (0.02 s) but the file holds only 991"
        ),
        "{e}"
    );
}

#[test]
fn metadata_after_the_audio_and_unknown_chunks_are_handled() {
    let d = dir("after");
    let samples: Vec<u8> = [1000i16, -1000, 32767]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let path = write(
        &d.join("after.wav"),
        &riff(&[
            chunk(b"fmt ", &fmt(1, 1, 48_000, 16, 2)),
            chunk(b"LIST", b"INFOISFT\x05\0\0\0abcd\0\0"), // odd inner size, even chunk
            chunk(b"data", &samples),
            chunk(b"iXML", b"<BWFXML/>"), // 9 bytes: padded
            chunk(b"bext", &bwf_bext().to_bytes()),
        ]),
    );
    let r = AudioReader::open(&path).unwrap();
    assert_eq!(r.metadata().ixml.as_deref(), Some(&b"<BWFXML/>"[..]));
    assert_eq!(r.metadata().time_reference_samples(), Some(172_800_000));
    assert_eq!(
        read_audio(&path).unwrap().channels,
        vec![vec![1000.0 / 32768.0, -1000.0 / 32768.0, 32767.0 / 32768.0]]
    );
    // A bext chunk too short to be one is left out; the audio still reads.
    let path = write(
        &d.join("shortbext.wav"),
        &riff(&[
            chunk(b"fmt ", &fmt(1, 1, 48_000, 16, 2)),
            chunk(b"bext", &[b'x'; 100]),
            chunk(b"data", &samples),
        ]),
    );
    let r = AudioReader::open(&path).unwrap();
    assert_eq!((r.metadata().bext.is_none(), r.frames()), (true, 3));
}

/// The chunks of a RIFF/RF64 file: (id, offset of the body, 32-bit size field).
fn chunks_of(bytes: &[u8]) -> Vec<([u8; 4], usize, u32)> {
    let mut out = Vec::new();
    let mut pos = 12;
    while pos + 8 <= bytes.len() {
        let id: [u8; 4] = bytes[pos..pos + 4].try_into().unwrap();
        let size = u32::from_le_bytes(bytes[pos + 4..pos + 8].try_into().unwrap());
        out.push((id, pos + 8, size));
        if size == u32::MAX {
            break;
        }
        pos += 8 + size as usize + (size as usize & 1);
    }
    out
}

#[test]
fn bext_and_ixml_round_trip_through_the_writer_byte_for_byte() {
    let d = dir("roundtrip");
    let bext = bwf_bext();
    // Odd length: the chunk gets a pad byte, its size field stays odd.
    let ixml = b"<BWFXML><NOTE>odd</NOTE></BWFXML>".to_vec();
    assert_eq!(ixml.len() % 2, 1);
    let options = WavOptions {
        metadata: Metadata {
            bext: Some(bext.clone()),
            ixml: Some(ixml.clone()),
        },
        ..WavOptions::default()
    };
    let x: Vec<Vec<f32>> = (0..2)
        .map(|c| {
            (0..999)
                .map(|i| ((i + c) as f32 * 0.05).sin() * 0.5)
                .collect()
        })
        .collect();
    for format in [
        SampleFormat::Int16,
        SampleFormat::Int24,
        SampleFormat::Float32,
    ] {
        let path = d.join(format!("bwf_{}.wav", format.bits()));
        let mut w = WavWriter::create_with(&path, 2, 48_000, format, &options).unwrap();
        w.write(&x).unwrap();
        w.finish().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let chunks = chunks_of(&bytes);
        let ids: Vec<&[u8]> = chunks.iter().map(|c| &c.0[..]).collect();
        assert_eq!(
            ids,
            [b"JUNK", b"fmt ", b"bext", b"iXML", b"data"],
            "{format:?}"
        );
        let (_, at, size) = chunks[2];
        assert_eq!(&bytes[at..at + size as usize], &bext.to_bytes()[..]);
        assert_eq!(size as usize, 602 + bext.coding_history.len());
        let (_, at, size) = chunks[3];
        assert_eq!(size as usize, ixml.len());
        assert_eq!(&bytes[at..at + ixml.len()], &ixml[..]);
        assert_eq!(bytes[at + ixml.len()], 0, "pad byte");
        assert_eq!(
            chunks[4].1 % 2,
            0,
            "the data chunk starts at an even offset"
        );
        assert_eq!(
            u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize,
            bytes.len() - 8
        );
        assert_eq!(chunks[4].2 as usize, 999 * 2 * format.bytes());
        let r = AudioReader::open(&path).unwrap();
        assert_eq!(r.metadata(), &options.metadata);
        assert_eq!(
            r.metadata().bext.as_ref().unwrap().description,
            bext.description
        );
        let got = read_audio(&path).unwrap().channels;
        let tol = match format {
            SampleFormat::Float32 => 0.0,
            _ => 0.5 / (1u32 << (format.bits() - 1)) as f32 + 1e-9,
        };
        for (g, e) in got.iter().zip(&x) {
            for (a, b) in g.iter().zip(e) {
                assert!((a - b).abs() <= tol, "{format:?}: {a} vs {b}");
            }
        }
    }
}

#[test]
fn plain_header_is_the_bytes_hound_wrote() {
    // WavWriter::create keeps the header layout of the files made before it wrote its own
    // header (hound's): tools and tests that look at byte offsets still find fmt at 12.
    // 257 frames: an odd data size for 24-bit mono.
    let d = dir("hound");
    for format in [
        SampleFormat::Int16,
        SampleFormat::Int24,
        SampleFormat::Int32,
        SampleFormat::Float32,
    ] {
        for channels in [1usize, 2, 6] {
            let x: Vec<Vec<f32>> = (0..channels)
                .map(|c| {
                    (0..257)
                        .map(|i| ((i * (c + 1)) as f32 * 0.03).sin() * 0.8)
                        .collect()
                })
                .collect();
            let ours = d.join("ours.wav");
            let mut w = WavWriter::create(&ours, channels, 44_100, format).unwrap();
            w.write(&x).unwrap();
            w.finish().unwrap();
            let theirs = d.join("hound.wav");
            let spec = hound::WavSpec {
                channels: channels as u16,
                sample_rate: 44_100,
                bits_per_sample: format.bits() as u16,
                sample_format: if format == SampleFormat::Float32 {
                    hound::SampleFormat::Float
                } else {
                    hound::SampleFormat::Int
                },
            };
            let mut h = hound::WavWriter::create(&theirs, spec).unwrap();
            let full = (1i64 << (format.bits() - 1)) as f32;
            for i in 0..257 {
                for c in &x {
                    match format {
                        SampleFormat::Float32 => h.write_sample(c[i]).unwrap(),
                        SampleFormat::Int16 => {
                            h.write_sample((c[i] * full).round() as i16).unwrap()
                        }
                        _ => h.write_sample((c[i] * full).round() as i32).unwrap(),
                    }
                }
            }
            h.finalize().unwrap();
            let mut expected = std::fs::read(&theirs).unwrap();
            // RIFF pads an odd-sized chunk to an even size; hound leaves the pad byte out
            // (24-bit mono, 257 frames): ours has it, counted in the RIFF size.
            if (257 * channels * format.bytes()) % 2 == 1 {
                expected.push(0);
                let riff = u32::from_le_bytes(expected[4..8].try_into().unwrap()) + 1;
                expected[4..8].copy_from_slice(&riff.to_le_bytes());
            }
            assert_eq!(
                std::fs::read(&ours).unwrap(),
                expected,
                "{format:?}, {channels} channels"
            );
        }
    }
}
