//! Reading and writing through underscore-io: every WAV encoding and FLAC bit depth round
//! trips, block boundaries do not matter, and every broken file is an error that names the
//! file, never a panic or a short read.

use std::fs::File;
use std::path::{Path, PathBuf};

use underscore_io::testing::{FRAME_FRAMES, write_flac_verbatim};
use underscore_io::{
    AudioReader, Container, ErrorKind, SampleFormat, WavWriter, read_audio, temp_path, write_wav,
};

/// A fresh, empty folder for one test.
fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("underscore-io-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn signal(frames: usize, phase: f32) -> Vec<f32> {
    (0..frames)
        .map(|i| ((i as f32) * 0.01 + phase).sin() * 0.9)
        .collect()
}

/// Reads all of `path` in blocks of `block` frames.
fn read_in_blocks(path: &Path, block: usize) -> Vec<Vec<f32>> {
    let mut r = AudioReader::open(path).unwrap();
    let mut all = vec![Vec::new(); r.channels()];
    let mut buf = vec![vec![0.0; block]; r.channels()];
    loop {
        let n = r.read(&mut buf, block).unwrap();
        if n == 0 {
            break;
        }
        for (a, b) in all.iter_mut().zip(&buf) {
            a.extend_from_slice(&b[..n]);
        }
    }
    assert_eq!(r.frames_read(), r.frames());
    all
}

fn worst_difference(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .flat_map(|(x, y)| {
            assert_eq!(x.len(), y.len());
            x.iter().zip(y).map(|(p, q)| (p - q).abs())
        })
        .fold(0.0, f32::max)
}

#[test]
fn unfinished_writer_leaves_no_file() {
    let d = dir("drop");
    let target = d.join("out.wav");
    let mut w = WavWriter::create(&target, 2, 48_000, SampleFormat::Int24).unwrap();
    w.write(&[&[0.5, 2.0][..], &[-0.5, -2.0][..]]).unwrap();
    assert_eq!(w.clipped_samples(), 2);
    assert!(temp_path(&target).exists());
    drop(w);
    assert!(!temp_path(&target).exists() && !target.exists());
}

#[test]
fn writer_refuses_a_block_of_the_wrong_shape() {
    let d = dir("shape");
    let target = d.join("out.wav");
    let mut w = WavWriter::create(&target, 2, 48_000, SampleFormat::Float32).unwrap();
    let e = w.write(&[&[0.5][..]]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Output);
    assert!(e.to_string().contains("out.wav"), "{e}");
    assert!(w.write(&[&[0.5][..], &[0.5, 0.5][..]]).is_err());
}

#[test]
fn all_wav_formats_round_trip_and_truncation_mid_stream_is_an_error() {
    let d = dir("formats");
    let x = signal(1_000, 0.0);
    for (fmt, tol) in [
        (SampleFormat::Int16, 1.0 / 32_768.0),
        (SampleFormat::Int24, 1.0 / 8_388_608.0),
        (SampleFormat::Int32, 1e-7),
        (SampleFormat::Float32, 0.0),
    ] {
        let target = d.join(format!("{fmt:?}.wav"));
        let mut w = WavWriter::create(&target, 1, 44_100, fmt).unwrap();
        w.write(&[&x[..]]).unwrap();
        w.finish().unwrap();
        let mut src = AudioReader::open(&target).unwrap();
        assert_eq!(
            (src.frames(), src.sample_rate_hz(), src.format()),
            (1_000, 44_100, fmt.wav_format())
        );
        assert_eq!(src.format().sample_format(), Some(fmt));
        let mut buf = vec![vec![0.0; 1_000]];
        assert_eq!(src.read(&mut buf, 1_000).unwrap(), 1_000);
        assert_eq!(src.read(&mut buf, 1_000).unwrap(), 0);
        let worst = worst_difference(&buf, std::slice::from_ref(&x));
        assert!(worst <= tol, "{fmt:?}: {worst}");
    }
    // A file cut short after it was opened (a copy still in progress, a failing disk),
    // longer than the read buffer so the cut is met while streaming.
    let target = d.join("long.wav");
    let mut w = WavWriter::create(&target, 1, 48_000, SampleFormat::Int16).unwrap();
    for _ in 0..1_500 {
        w.write(&[&x[..]]).unwrap();
    }
    w.finish().unwrap();
    let mut src = AudioReader::open(&target).unwrap();
    File::options()
        .write(true)
        .open(&target)
        .unwrap()
        .set_len(1_000_000)
        .unwrap();
    let mut buf = vec![vec![0.0; 8_192]];
    let e = loop {
        match src.read(&mut buf, 8_192) {
            Ok(0) => panic!("read past the cut"),
            Ok(_) => {}
            Err(e) => break e,
        }
    };
    assert_eq!(e.kind, ErrorKind::Input);
    assert!(
        e.to_string().contains("long.wav") && e.problem.contains("truncated"),
        "{e}"
    );
}

#[test]
fn a_wav_shorter_than_its_header_is_refused_at_open() {
    let d = dir("shortwav");
    let target = d.join("mx.wav");
    write_wav(&target, 48_000, &[signal(48_000, 0.0), signal(48_000, 1.0)]).unwrap();
    let bytes = std::fs::read(&target).unwrap();
    let cut = d.join("cut.wav");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let e = AudioReader::open(&cut).err().unwrap();
    assert!(
        e.to_string().starts_with(&format!(
            "{}: truncated: the header announces 48000 frames (1.00 s)",
            cut.display()
        )),
        "{e}"
    );
    std::fs::write(&cut, &bytes[..30]).unwrap();
    let e = AudioReader::open(&cut).err().unwrap();
    assert_eq!(e.problem, "truncated: the file ends inside the WAV header");
}

#[test]
fn flac_of_every_bit_depth_reads_like_the_samples_written() {
    let d = dir("flac");
    // Not a whole number of FLAC frames, so the last frame is short.
    let frames = 3 * FRAME_FRAMES + 123;
    for bits in [8u32, 12, 16, 20, 24] {
        for channels in [1usize, 2, 6] {
            let x: Vec<Vec<f32>> = (0..channels).map(|c| signal(frames, c as f32)).collect();
            let path = d.join(format!("x{bits}_{channels}.flac"));
            write_flac_verbatim(&path, 96_000, bits, &x).unwrap();
            let r = AudioReader::open(&path).unwrap();
            assert_eq!(r.channels(), channels);
            assert_eq!(r.sample_rate_hz(), 96_000);
            assert_eq!(r.frames(), frames as u64);
            assert_eq!(r.format().container, Container::Flac);
            assert_eq!(
                (r.format().bits_per_sample, r.format().float),
                (bits, false)
            );
            // Blocks smaller and larger than a FLAC frame, and not dividing it.
            let a = read_in_blocks(&path, 1_000);
            let b = read_in_blocks(&path, 10_000);
            assert_eq!(a, b);
            let step = 1.0 / (1u32 << (bits - 1)) as f32;
            let worst = worst_difference(&a, &x);
            assert!(worst <= step / 2.0 + 1e-7, "{bits} bit: {worst}");
        }
    }
}

#[test]
fn flac_and_wav_of_the_same_samples_read_the_same() {
    let d = dir("flacwav");
    let x = vec![signal(20_000, 0.0), signal(20_000, 2.0)];
    for (bits, fmt) in [(16, SampleFormat::Int16), (24, SampleFormat::Int24)] {
        let flac = d.join(format!("x{bits}.flac"));
        let wav = d.join(format!("x{bits}.wav"));
        write_flac_verbatim(&flac, 48_000, bits, &x).unwrap();
        let mut w = WavWriter::create(&wav, 2, 48_000, fmt).unwrap();
        w.write(&x).unwrap();
        w.finish().unwrap();
        let (f, w) = (read_audio(&flac).unwrap(), read_audio(&wav).unwrap());
        assert_eq!(f, w, "{bits} bit");
        assert_eq!(
            AudioReader::open(&flac).unwrap().format().sample_format(),
            Some(fmt)
        );
    }
}

#[test]
fn broken_flac_files_are_errors_naming_the_file() {
    let d = dir("badflac");
    let x = vec![signal(5 * FRAME_FRAMES, 0.0)];
    let path = d.join("dx.flac");
    write_flac_verbatim(&path, 48_000, 24, &x).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let cut = d.join("cut.flac");
    // Cut inside the audio: found when the data runs out.
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let mut r = AudioReader::open(&cut).unwrap();
    let mut buf = vec![vec![0.0; 1_000]];
    let e = loop {
        match r.read(&mut buf, 1_000) {
            Ok(0) => panic!("read past the cut"),
            Ok(_) => {}
            Err(e) => break e,
        }
    };
    assert!(
        e.to_string().contains("cut.flac") && e.problem.starts_with("truncated: the data ends"),
        "{e}"
    );
    // Cut exactly between two FLAC frames: the stream simply ends early.
    let header_bytes = 4 + 4 + 34;
    let frame_bytes = (bytes.len() - header_bytes) / 5;
    std::fs::write(&cut, &bytes[..header_bytes + 2 * frame_bytes]).unwrap();
    let e = read_audio(&cut).unwrap_err();
    assert_eq!(
        e.problem,
        format!(
            "truncated: the data ends after about {} of {} frames",
            2 * FRAME_FRAMES,
            5 * FRAME_FRAMES
        )
    );
    // Cut inside the header.
    std::fs::write(&cut, &bytes[..20]).unwrap();
    let e = AudioReader::open(&cut).err().unwrap();
    assert_eq!(e.problem, "truncated: the file ends inside the FLAC header");
    // A flipped bit inside a frame fails its checksum.
    let mut bad = bytes.clone();
    bad[header_bytes + frame_bytes + 100] ^= 0x10;
    std::fs::write(&cut, &bad).unwrap();
    let e = read_audio(&cut).unwrap_err();
    assert!(e.problem.starts_with("corrupt FLAC data"), "{e}");
    // No length in the header (allowed by the format, but the renderer must know it).
    let mut unknown = bytes.clone();
    unknown[21] &= 0xF0;
    unknown[22..26].fill(0);
    std::fs::write(&cut, &unknown).unwrap();
    let e = AudioReader::open(&cut).err().unwrap();
    assert!(e.problem.contains("does not state the length"), "{e}");
    // Not FLAC at all, with a .flac name.
    std::fs::write(&cut, "not audio at all\n").unwrap();
    let e = AudioReader::open(&cut).err().unwrap();
    assert!(e.problem.starts_with("not a FLAC file"), "{e}");
}

#[test]
fn missing_folder_and_non_audio_files() {
    let d = dir("missing");
    let e = AudioReader::open(&d.join("nope.wav")).err().unwrap();
    assert_eq!(
        (e.kind, e.problem.as_str()),
        (ErrorKind::Input, "file not found")
    );
    let e = AudioReader::open(&d).err().unwrap();
    assert!(e.problem.starts_with("is a folder"), "{e}");
    let text = d.join("notes.wav");
    std::fs::write(&text, "these are not samples\n".repeat(10)).unwrap();
    let e = AudioReader::open(&text).err().unwrap();
    assert!(e.problem.starts_with("not a WAV file"), "{e}");
    // The contents decide, not the name: a FLAC file called .wav is read as FLAC.
    let flac_named_wav = d.join("really_flac.wav");
    write_flac_verbatim(&flac_named_wav, 48_000, 16, &[signal(100, 0.0)]).unwrap();
    let r = AudioReader::open(&flac_named_wav).unwrap();
    assert_eq!(r.format().container, Container::Flac);
    // Errors convert to the plain messages older tools use.
    let message: String = AudioReader::open(&d.join("nope.wav")).err().unwrap().into();
    assert!(message.ends_with("nope.wav: file not found"), "{message}");
}

#[test]
fn whole_file_helpers_round_trip_through_a_temporary_file() {
    let d = dir("whole");
    let x = vec![signal(30_000, 0.0), signal(30_000, 0.5), vec![0.0; 30_000]];
    let path = d.join("sub/x.wav");
    write_wav(&path, 44_100, &x).unwrap();
    assert!(!temp_path(&path).exists());
    let a = read_audio(&path).unwrap();
    assert_eq!(a.sample_rate, 44_100);
    assert_eq!(a.frames(), 30_000);
    assert_eq!(a.channels, x);
    // Channels of different lengths cannot be a WAV file: nothing is left behind.
    let bad = d.join("bad.wav");
    assert!(write_wav(&bad, 44_100, &[vec![0.0; 10], vec![0.0; 9]]).is_err());
    assert!(!bad.exists() && !temp_path(&bad).exists());
}
