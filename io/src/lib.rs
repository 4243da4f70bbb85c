//! # underscore-io
//!
//! The one audio-file layer of Underscore's tools (the renderer, the scene renders, the editor
//! picture, the examples and the tests): WAV (RIFF, RF64/BW64) and FLAC in, WAV out,
//! streaming in constant memory, with errors that name the file and the problem, and the
//! Broadcast WAV metadata (`bext`, `iXML`) carried from inputs to outputs.
//!
//! * [`AudioReader`]: opens a WAV (8/16/24/32-bit integer or 32/64-bit float, plain or
//!   WAVE_FORMAT_EXTENSIBLE, RIFF or RF64/BW64) or FLAC file (any bit depth), checks its
//!   header (a WAV shorter than its header announces is refused at once), then reads planar
//!   `f32` blocks (`read(&mut planar, frames) -> n`); [`AudioReader::metadata`] gives the
//!   file's `bext` and `iXML` ([`Metadata`], [`Bext`]).
//! * [`WavWriter`]: writes planar `f32` blocks as 16/24/32-bit integer or 32-bit float WAV
//!   through `<target>.tmp-<pid>`, renamed into place by `finish`; dropped unfinished, it
//!   removes the temporary file. Integer output is rounded, clipped samples are counted.
//!   [`WavWriter::create_with`] writes `bext` and `iXML` before the audio and finishes a file
//!   past 4 GiB as RF64 ([`WavOptions`]).
//! * [`read_audio`], [`write_wav`]: a whole file at once ([`Audio`]), on top of the two.
//! * [`write_atomically`]: any small file (report, JSON) through a temporary file.
//! * [`Error`]: path, problem, and whether it was [`ErrorKind::Input`] or
//!   [`ErrorKind::Output`].
//! * [`testing::write_flac_verbatim`]: uncompressed FLAC files for tests; [`testing::riff`],
//!   [`testing::rf64`] and friends: WAV files laid out byte by byte for tests.

mod error;
mod flac;
mod format;
mod metadata;
mod reader;
pub mod testing;
mod wav;
mod writer;

use std::path::Path;

pub use error::{Error, ErrorKind, Result};
pub use format::{Container, Format, SampleFormat};
pub use metadata::{Bext, LOUDNESS_NOT_SET, Metadata};
pub use reader::AudioReader;
pub use writer::{WavOptions, WavWriter, temp_path, write_atomically};

/// Frames per block when whole files are read or written.
const BLOCK_FRAMES: usize = 8_192;
/// Most frames [`read_audio`] reserves per channel before reading (about 6 min at 48 kHz;
/// longer files grow as they are read).
const MAX_RESERVE_FRAMES: usize = 1 << 24;

/// A planar multichannel signal in memory with its sample rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    /// Sample rate, Hz.
    pub sample_rate: u32,
    /// channels x frames, full scale = 1.0.
    pub channels: Vec<Vec<f32>>,
}

impl Audio {
    /// Frames (samples per channel).
    pub fn frames(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }
}

/// Reads a whole WAV or FLAC file into memory (through [`AudioReader`]).
pub fn read_audio(path: &Path) -> Result<Audio> {
    let mut reader = AudioReader::open(path)?;
    let frames = usize::try_from(reader.frames())
        .map_err(|_| Error::input(path, "too long to read into memory"))?;
    // Reserved up front, but not beyond what a plausible file holds: a corrupt header must not
    // allocate gigabytes before the first sample is read.
    let reserve = frames.min(MAX_RESERVE_FRAMES);
    let mut channels: Vec<Vec<f32>> = (0..reader.channels())
        .map(|_| Vec::with_capacity(reserve))
        .collect();
    let mut block = vec![vec![0.0f32; BLOCK_FRAMES]; reader.channels()];
    loop {
        let n = reader.read(&mut block, BLOCK_FRAMES)?;
        if n == 0 {
            break;
        }
        for (all, b) in channels.iter_mut().zip(&block) {
            all.extend_from_slice(&b[..n]);
        }
    }
    Ok(Audio {
        sample_rate: reader.sample_rate_hz(),
        channels,
    })
}

/// Writes planar `channels` (equal lengths) as a 32-bit float WAV at `sample_rate` Hz
/// (through [`WavWriter`], so a failure leaves no file behind).
pub fn write_wav(path: &Path, sample_rate: u32, channels: &[Vec<f32>]) -> Result<()> {
    let frames = channels.first().map_or(0, Vec::len);
    if channels.iter().any(|c| c.len() != frames) {
        return Err(Error::output(path, "channels of different lengths"));
    }
    let mut writer = WavWriter::create(path, channels.len(), sample_rate, SampleFormat::Float32)?;
    let mut start = 0;
    while start < frames {
        let end = (start + BLOCK_FRAMES).min(frames);
        let block: Vec<&[f32]> = channels.iter().map(|c| &c[start..end]).collect();
        writer.write(&block)?;
        start = end;
    }
    writer.finish()?;
    Ok(())
}
