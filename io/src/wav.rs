//! WAV reading: `hound` parses the header, then the data chunk is read in blocks of raw bytes
//! and converted to planar `f32` (16/24/32-bit integer, 32-bit float). Decoding whole blocks
//! is several times faster than hound's per-sample iterator (`examples/read_bench.rs` measures
//! both on the same files).

use std::fs::File;
use std::io::{BufReader, ErrorKind as IoKind, Read, Seek, SeekFrom};
use std::path::Path;

use crate::format::SampleFormat;
use crate::reader::{Header, Position};

/// Counts the bytes the header parser consumed (where the data starts).
struct Counting<R> {
    inner: R,
    bytes: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
}

fn read_u32_at(path: &Path, offset: u64) -> std::io::Result<u32> {
    let mut f = File::open(path)?;
    f.seek(SeekFrom::Start(offset))?;
    let mut b = [0u8; 4];
    f.read_exact(&mut b)?;
    Ok(u32::from_le_bytes(b))
}

/// The data chunk of a WAV file, positioned at the next frame.
pub(crate) struct WavDecoder {
    reader: BufReader<File>,
    format: SampleFormat,
    /// Raw bytes of the block being converted (grows to the largest block read).
    bytes: Vec<u8>,
}

impl WavDecoder {
    /// Parses the header from `reader` (at the start of `path`, `file_bytes` long) and checks
    /// the data chunk is all there. Errors are problems without the path.
    pub fn open(
        path: &Path,
        mut reader: BufReader<File>,
        file_bytes: u64,
    ) -> Result<(Self, Header), String> {
        let header_problem = |e: hound::Error| match e {
            // The file ends before the header does (hound reports a short read).
            hound::Error::IoError(_) => {
                "truncated: the file ends inside the WAV header".to_string()
            }
            hound::Error::FormatError(what) => {
                format!("not a WAV file, or a corrupt header ({what})")
            }
            hound::Error::Unsupported => {
                "unsupported WAV encoding (supported: 16/24/32-bit integer PCM, 32-bit float)"
                    .to_string()
            }
            other => format!("cannot read the header: {other}"),
        };
        let parsed = hound::WavReader::new(Counting {
            inner: &mut reader,
            bytes: 0,
        })
        .map_err(header_problem)?;
        let spec = parsed.spec();
        let samples = parsed.len() as u64;
        let data_start = parsed.into_inner().bytes;
        // The data chunk's length field is the 4 bytes before its data: with the sample count
        // it gives the container size (24-bit audio may sit in 3 or 4 bytes).
        let data_bytes = read_u32_at(path, data_start.saturating_sub(4))
            .map_err(|e| format!("cannot read: {e}"))? as u64;
        let container = data_bytes
            .checked_div(samples)
            .map_or(spec.bits_per_sample.div_ceil(8) as usize, |b| b as usize);
        let format = match (spec.sample_format, spec.bits_per_sample, container) {
            (hound::SampleFormat::Int, 16, 2) => SampleFormat::Int16,
            (hound::SampleFormat::Int, 24, 3) => SampleFormat::Int24,
            (hound::SampleFormat::Int, 32, 4) => SampleFormat::Int32,
            (hound::SampleFormat::Float, 32, 4) => SampleFormat::Float32,
            (kind, bits, _) => {
                let kind = match kind {
                    hound::SampleFormat::Int => "integer",
                    hound::SampleFormat::Float => "float",
                };
                return Err(format!(
                    "unsupported sample format: {bits}-bit {kind} \
                     (supported: 16/24/32-bit integer, 32-bit float)"
                ));
            }
        };
        let channels = spec.channels as usize;
        if channels == 0 {
            return Err("the header declares no channels".into());
        }
        let frame_bytes = (channels * container) as u64;
        let frames = data_bytes / frame_bytes;
        let available = file_bytes.saturating_sub(data_start);
        if available < frames * frame_bytes {
            let held = available / frame_bytes;
            let sr = spec.sample_rate.max(1) as f64;
            return Err(format!(
                "truncated: the header announces {frames} frames ({:.2} s) but the file holds \
                 only {held} ({:.2} s)",
                frames as f64 / sr,
                held as f64 / sr
            ));
        }
        let header = Header {
            channels,
            sample_rate_hz: spec.sample_rate,
            frames,
            format: format.wav_format(),
        };
        let decoder = Self {
            reader,
            format,
            bytes: Vec::new(),
        };
        Ok((decoder, header))
    }

    /// Reads exactly `n` frames of `channels` channels into `out[..][..n]`.
    pub fn read<C: AsMut<[f32]>>(
        &mut self,
        out: &mut [C],
        n: usize,
        channels: usize,
        at: Position,
    ) -> Result<(), String> {
        let bps = self.format.bytes();
        let ch = channels;
        self.bytes.resize(n * ch * bps, 0);
        self.reader.read_exact(&mut self.bytes).map_err(|e| {
            if e.kind() == IoKind::UnexpectedEof {
                at.truncated(0)
            } else {
                format!("read error after {} frames: {e}", at.frames_read)
            }
        })?;
        let b = &self.bytes;
        for (c, dst) in out.iter_mut().enumerate().take(ch) {
            let dst = &mut dst.as_mut()[..n];
            match self.format {
                SampleFormat::Int16 => {
                    for (i, d) in dst.iter_mut().enumerate() {
                        let o = (i * ch + c) * 2;
                        *d = i16::from_le_bytes([b[o], b[o + 1]]) as f32 * (1.0 / 32_768.0);
                    }
                }
                SampleFormat::Int24 => {
                    for (i, d) in dst.iter_mut().enumerate() {
                        let o = (i * ch + c) * 3;
                        let v = i32::from_le_bytes([0, b[o], b[o + 1], b[o + 2]]) >> 8;
                        *d = v as f32 * (1.0 / 8_388_608.0);
                    }
                }
                SampleFormat::Int32 => {
                    for (i, d) in dst.iter_mut().enumerate() {
                        let o = (i * ch + c) * 4;
                        let v = i32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
                        *d = v as f32 * (1.0 / 2_147_483_648.0);
                    }
                }
                SampleFormat::Float32 => {
                    for (i, d) in dst.iter_mut().enumerate() {
                        let o = (i * ch + c) * 4;
                        *d = f32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
                    }
                }
            }
        }
        Ok(())
    }
}
