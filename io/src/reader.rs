//! [`AudioReader`]: WAV or FLAC, opened and checked, then read block by block into planar
//! `f32` in constant memory.

use std::fs::File;
use std::io::{BufRead, BufReader, ErrorKind as IoKind};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::flac::FlacDecoder;
use crate::format::Format;
use crate::metadata::Metadata;
use crate::wav::WavDecoder;

/// Read buffer, bytes: large sequential reads, a fixed amount of memory.
pub(crate) const READ_BUFFER_BYTES: usize = 1 << 20;

enum Decoder {
    Wav(WavDecoder),
    Flac(FlacDecoder),
}

/// An audio file being read from start to end.
///
/// [`AudioReader::open`] reads the header and checks what can be checked before any audio is
/// used: a WAV file shorter than its header announces is refused there; a FLAC file (whose
/// compressed size says nothing about its length) that ends early is reported by
/// [`AudioReader::read`] when the data runs out. Samples are scaled to full scale = 1.0.
pub struct AudioReader {
    path: PathBuf,
    channels: usize,
    sample_rate_hz: u32,
    frames: u64,
    format: Format,
    frames_read: u64,
    metadata: Metadata,
    decoder: Decoder,
}

impl AudioReader {
    /// Opens `path`, WAV (8/16/24/32-bit integer or 32/64-bit float, plain or
    /// WAVE_FORMAT_EXTENSIBLE, RIFF or RF64/BW64) or FLAC (any bit depth), recognised by its
    /// first bytes; every problem is an [`Error`] naming the file. A WAV's `bext` and `iXML`
    /// chunks are kept ([`Self::metadata`]).
    pub fn open(path: &Path) -> Result<Self> {
        let fail = |problem: String| Error::input(path, problem);
        let file = File::open(path).map_err(|e| match e.kind() {
            IoKind::NotFound => fail("file not found".into()),
            IoKind::PermissionDenied => fail("permission denied".into()),
            _ => fail(format!("cannot open: {e}")),
        })?;
        let meta = file
            .metadata()
            .map_err(|e| fail(format!("cannot read: {e}")))?;
        if meta.is_dir() {
            return Err(fail("is a folder, not a WAV or FLAC file".into()));
        }
        let mut reader = BufReader::with_capacity(READ_BUFFER_BYTES, file);
        let magic = reader
            .fill_buf()
            .map_err(|e| fail(format!("cannot read: {e}")))?;
        // The first bytes decide; a file that is neither gets the message of the type its
        // name promises (a WAV's by default).
        let is_flac = if magic.starts_with(b"fLaC") {
            true
        } else if [b"RIFF", b"RF64", b"BW64"]
            .iter()
            .any(|m| magic.starts_with(*m))
        {
            false
        } else {
            path.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("flac"))
        };
        let (decoder, header, metadata) = if is_flac {
            let (d, h) = FlacDecoder::open(reader).map_err(fail)?;
            (Decoder::Flac(d), h, Metadata::default())
        } else {
            let (d, h, m) = WavDecoder::open(reader, meta.len()).map_err(fail)?;
            (Decoder::Wav(d), h, m)
        };
        if header.channels == 0 {
            return Err(fail("the header declares no channels".into()));
        }
        Ok(Self {
            path: path.to_path_buf(),
            channels: header.channels,
            sample_rate_hz: header.sample_rate_hz,
            frames: header.frames,
            format: header.format,
            frames_read: 0,
            metadata,
            decoder,
        })
    }

    /// Channels per frame.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Sample rate, Hz.
    pub fn sample_rate_hz(&self) -> u32 {
        self.sample_rate_hz
    }

    /// Frames (samples per channel) in the file, as its header states.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Frames read so far.
    pub fn frames_read(&self) -> u64 {
        self.frames_read
    }

    /// Container and sample encoding.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The file's BWF metadata (`bext`, `iXML`); empty for FLAC and plain WAV files.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the next `frames` frames (fewer at the end) into `out[channel][..n]` and returns
    /// `n`; 0 once every frame was read. A file whose data ends before the frames its header
    /// announces is an error ("truncated: ..."), never a short read.
    ///
    /// # Panics
    /// If `out` has fewer than [`Self::channels`] channels or one of them is shorter than `n`.
    pub fn read<C: AsMut<[f32]>>(&mut self, out: &mut [C], frames: usize) -> Result<usize> {
        let n = (frames as u64).min(self.frames - self.frames_read) as usize;
        if n == 0 {
            return Ok(0);
        }
        assert!(
            out.len() >= self.channels,
            "{} output channels for a {}-channel file",
            out.len(),
            self.channels
        );
        let position = Position {
            frames_read: self.frames_read,
            frames: self.frames,
        };
        let result = match &mut self.decoder {
            Decoder::Wav(d) => d.read(out, n, self.channels, position),
            Decoder::Flac(d) => d.read(out, n, self.channels, position),
        };
        result.map_err(|problem| Error::input(&self.path, problem))?;
        self.frames_read += n as u64;
        Ok(n)
    }
}

/// What a decoder learned from the header.
pub(crate) struct Header {
    pub channels: usize,
    pub sample_rate_hz: u32,
    pub frames: u64,
    pub format: Format,
}

/// Where a read starts, for the messages about a file that ends early.
#[derive(Clone, Copy)]
pub(crate) struct Position {
    pub frames_read: u64,
    pub frames: u64,
}

impl Position {
    /// The problem of a file whose data ends `done` frames into this read.
    pub fn truncated(self, done: usize) -> String {
        format!(
            "truncated: the data ends after about {} of {} frames",
            self.frames_read + done as u64,
            self.frames
        )
    }
}
