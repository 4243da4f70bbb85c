//! Streaming WAV input and output in constant memory.
//!
//! [`WavSource`] parses the header with `hound` and then reads the data chunk in blocks of raw
//! bytes (16/24/32-bit integer or 32-bit float), converting to planar `f32`. A file whose data
//! chunk is shorter than its header announces is rejected before any audio is rendered.
//!
//! [`WavSink`] writes to `<output>.tmp-<pid>` beside the target and renames it into place only
//! in [`WavSink::finish`]; dropped unfinished (an error, a panic), it removes the temporary file,
//! so a failed render never leaves a partial output behind.

use std::fs::File;
use std::io::{BufReader, BufWriter, ErrorKind as IoKind, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::driver::{Sink, Source};
use crate::error::RenderError;

/// Read buffer size, bytes: large sequential reads, a fixed amount of memory.
const READ_BUFFER_BYTES: usize = 1 << 20;
/// Write buffer size, bytes.
const WRITE_BUFFER_BYTES: usize = 1 << 20;

/// Sample encodings the renderer reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleFormat {
    Int16,
    Int24,
    Int32,
    Float32,
}

impl SampleFormat {
    /// Bytes per sample in the file.
    pub fn bytes(self) -> usize {
        match self {
            SampleFormat::Int16 => 2,
            SampleFormat::Int24 => 3,
            SampleFormat::Int32 | SampleFormat::Float32 => 4,
        }
    }

    /// Reads the `--bit-depth` value: `16`, `24`, `32` (integer) or `32f` (float).
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "16" => Ok(SampleFormat::Int16),
            "24" => Ok(SampleFormat::Int24),
            "32" => Ok(SampleFormat::Int32),
            "32f" | "float" | "f32" => Ok(SampleFormat::Float32),
            other => Err(format!(
                "bit depth \"{other}\" is not one of 16, 24, 32 (integer) or 32f (float)"
            )),
        }
    }

    /// How users read it: "16-bit integer", "32-bit float".
    pub fn describe(self) -> &'static str {
        match self {
            SampleFormat::Int16 => "16-bit integer",
            SampleFormat::Int24 => "24-bit integer",
            SampleFormat::Int32 => "32-bit integer",
            SampleFormat::Float32 => "32-bit float",
        }
    }

    fn hound_spec(self, channels: usize, sample_rate_hz: u32) -> hound::WavSpec {
        let (bits, format) = match self {
            SampleFormat::Int16 => (16, hound::SampleFormat::Int),
            SampleFormat::Int24 => (24, hound::SampleFormat::Int),
            SampleFormat::Int32 => (32, hound::SampleFormat::Int),
            SampleFormat::Float32 => (32, hound::SampleFormat::Float),
        };
        hound::WavSpec {
            channels: channels as u16,
            sample_rate: sample_rate_hz,
            bits_per_sample: bits,
            sample_format: format,
        }
    }
}

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

/// A WAV file being read block by block.
pub struct WavSource {
    path: PathBuf,
    reader: BufReader<File>,
    channels: usize,
    sample_rate_hz: u32,
    format: SampleFormat,
    frames: u64,
    frames_read: u64,
    bytes: Vec<u8>,
}

impl WavSource {
    /// Opens `path` and checks its header and size; every problem is an error naming the file.
    pub fn open(path: &Path) -> Result<Self, RenderError> {
        let fail = |problem: String| RenderError::input(path, problem);
        let file = File::open(path).map_err(|e| match e.kind() {
            IoKind::NotFound => fail("file not found".into()),
            IoKind::PermissionDenied => fail("permission denied".into()),
            _ => fail(format!("cannot open: {e}")),
        })?;
        let meta = file
            .metadata()
            .map_err(|e| fail(format!("cannot read: {e}")))?;
        if meta.is_dir() {
            return Err(fail("is a folder, not a WAV file".into()));
        }
        let file_bytes = meta.len();
        let mut reader = BufReader::with_capacity(READ_BUFFER_BYTES, file);
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
        .map_err(|e| fail(header_problem(e)))?;
        let spec = parsed.spec();
        let samples = parsed.len() as u64;
        let data_start = parsed.into_inner().bytes;
        // The data chunk's length field is the 4 bytes before its data: with the sample count
        // it gives the container size (24-bit audio may sit in 3 or 4 bytes).
        let data_bytes = read_u32_at(path, data_start.saturating_sub(4))
            .map_err(|e| fail(format!("cannot read: {e}")))? as u64;
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
                return Err(fail(format!(
                    "unsupported sample format: {bits}-bit {kind} \
                     (supported: 16/24/32-bit integer, 32-bit float)"
                )));
            }
        };
        let channels = spec.channels as usize;
        if channels == 0 {
            return Err(fail("the header declares no channels".into()));
        }
        let frame_bytes = (channels * container) as u64;
        let frames = data_bytes / frame_bytes;
        let available = file_bytes.saturating_sub(data_start);
        if available < frames * frame_bytes {
            let held = available / frame_bytes;
            let sr = spec.sample_rate.max(1) as f64;
            return Err(fail(format!(
                "truncated: the header announces {frames} frames ({:.2} s) but the file holds \
                 only {held} ({:.2} s)",
                frames as f64 / sr,
                held as f64 / sr
            )));
        }
        Ok(Self {
            path: path.to_path_buf(),
            reader,
            channels,
            sample_rate_hz: spec.sample_rate,
            format,
            frames,
            frames_read: 0,
            bytes: Vec::new(),
        })
    }

    /// Sample rate, Hz.
    pub fn sample_rate_hz(&self) -> u32 {
        self.sample_rate_hz
    }

    /// Frames (samples per channel) in the file.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// The file's sample encoding.
    pub fn format(&self) -> SampleFormat {
        self.format
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Source for WavSource {
    fn channels(&self) -> usize {
        self.channels
    }

    fn read(&mut self, out: &mut [Vec<f32>], frames: usize) -> Result<usize, RenderError> {
        let n = (frames as u64).min(self.frames - self.frames_read) as usize;
        if n == 0 {
            return Ok(0);
        }
        let bps = self.format.bytes();
        let ch = self.channels;
        self.bytes.resize(n * ch * bps, 0);
        self.reader.read_exact(&mut self.bytes).map_err(|e| {
            let problem = if e.kind() == IoKind::UnexpectedEof {
                format!(
                    "truncated: the data ends after about {} of {} frames",
                    self.frames_read, self.frames
                )
            } else {
                format!("read error after {} frames: {e}", self.frames_read)
            };
            RenderError::input(&self.path, problem)
        })?;
        let b = &self.bytes;
        for (c, dst) in out.iter_mut().enumerate().take(ch) {
            let dst = &mut dst[..n];
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
        self.frames_read += n as u64;
        Ok(n)
    }
}

/// `<target>.tmp-<pid>` beside `target`.
pub fn temp_path(target: &Path) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp-{}", std::process::id()));
    target.with_file_name(name)
}

/// A WAV file being written through a temporary file, renamed into place by
/// [`WavSink::finish`].
pub struct WavSink {
    target: PathBuf,
    temp: PathBuf,
    writer: Option<hound::WavWriter<BufWriter<File>>>,
    format: SampleFormat,
    channels: usize,
    /// Samples clipped to full scale (integer formats only).
    clipped: u64,
}

impl WavSink {
    /// Starts writing `channels` channels at `sample_rate_hz` in `format` to a temporary file
    /// beside `target`.
    pub fn create(
        target: &Path,
        channels: usize,
        sample_rate_hz: u32,
        format: SampleFormat,
    ) -> Result<Self, RenderError> {
        let temp = temp_path(target);
        let fail =
            |e: &dyn std::fmt::Display| RenderError::output(target, format!("cannot write: {e}"));
        if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| fail(&e))?;
        }
        let file = File::create(&temp).map_err(|e| fail(&e))?;
        let spec = format.hound_spec(channels, sample_rate_hz);
        let writer =
            hound::WavWriter::new(BufWriter::with_capacity(WRITE_BUFFER_BYTES, file), spec)
                .map_err(|e| {
                    let _ = std::fs::remove_file(&temp);
                    fail(&e)
                })?;
        Ok(Self {
            target: target.to_path_buf(),
            temp,
            writer: Some(writer),
            format,
            channels,
            clipped: 0,
        })
    }

    /// Samples clipped at full scale so far (integer formats; float output never clips).
    pub fn clipped_samples(&self) -> u64 {
        self.clipped
    }

    /// The final path.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Completes the header and renames the temporary file to the target.
    pub fn finish(mut self) -> Result<PathBuf, RenderError> {
        let fail = |e: &dyn std::fmt::Display| {
            RenderError::output(&self.target, format!("cannot write: {e}"))
        };
        if let Some(w) = self.writer.take() {
            w.finalize().map_err(|e| fail(&e))?;
        }
        std::fs::rename(&self.temp, &self.target).map_err(|e| fail(&e))?;
        Ok(self.target.clone())
    }
}

impl Drop for WavSink {
    fn drop(&mut self) {
        if self.writer.take().is_some() || self.temp.exists() {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// Full-scale integer for `bits`, clamped and rounded; counts clipping.
#[inline]
fn to_int(x: f32, full_scale: f32, clipped: &mut u64) -> i32 {
    let v = (x * full_scale).round();
    if v >= full_scale {
        *clipped += 1;
        full_scale as i32 - 1
    } else if v < -full_scale {
        *clipped += 1;
        -(full_scale as i32)
    } else if v.is_nan() {
        0
    } else {
        v as i32
    }
}

impl Sink for WavSink {
    fn write(&mut self, channels: &[&[f32]]) -> Result<(), RenderError> {
        let frames = channels.first().map_or(0, |c| c.len());
        let Some(w) = self.writer.as_mut() else {
            return Ok(());
        };
        let fail =
            |e: hound::Error| RenderError::output(&self.target, format!("cannot write: {e}"));
        let ch = self.channels;
        match self.format {
            SampleFormat::Float32 => {
                for i in 0..frames {
                    for c in channels.iter().take(ch) {
                        w.write_sample(c[i]).map_err(fail)?;
                    }
                }
            }
            SampleFormat::Int16 => {
                for i in 0..frames {
                    for c in channels.iter().take(ch) {
                        let v = to_int(c[i], 32_768.0, &mut self.clipped) as i16;
                        w.write_sample(v).map_err(fail)?;
                    }
                }
            }
            SampleFormat::Int24 | SampleFormat::Int32 => {
                let fs = if self.format == SampleFormat::Int24 {
                    8_388_608.0
                } else {
                    2_147_483_648.0
                };
                for i in 0..frames {
                    for c in channels.iter().take(ch) {
                        let v = to_int(c[i], fs, &mut self.clipped);
                        w.write_sample(v).map_err(fail)?;
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("underscore-wav-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn unfinished_sink_leaves_no_file() {
        let d = dir("drop");
        let target = d.join("out.wav");
        let mut sink = WavSink::create(&target, 2, 48_000, SampleFormat::Int24).unwrap();
        sink.write(&[&[0.5, 2.0][..], &[-0.5, -2.0][..]]).unwrap();
        assert_eq!(sink.clipped_samples(), 2);
        assert!(temp_path(&target).exists());
        drop(sink);
        assert!(!temp_path(&target).exists() && !target.exists());
    }

    #[test]
    fn all_formats_round_trip_and_truncation_mid_stream_is_an_error() {
        let d = dir("formats");
        let x: Vec<f32> = (0..1_000)
            .map(|i| ((i as f32) * 0.01).sin() * 0.9)
            .collect();
        for (fmt, tol) in [
            (SampleFormat::Int16, 1.0 / 32_768.0),
            (SampleFormat::Int24, 1.0 / 8_388_608.0),
            (SampleFormat::Int32, 1e-7),
            (SampleFormat::Float32, 0.0),
        ] {
            let target = d.join(format!("{fmt:?}.wav"));
            let mut sink = WavSink::create(&target, 1, 44_100, fmt).unwrap();
            sink.write(&[&x[..]]).unwrap();
            sink.finish().unwrap();
            let mut src = WavSource::open(&target).unwrap();
            assert_eq!(
                (src.frames(), src.sample_rate_hz(), src.format()),
                (1_000, 44_100, fmt)
            );
            let mut buf = vec![vec![0.0; 1_000]];
            assert_eq!(src.read(&mut buf, 1_000).unwrap(), 1_000);
            let worst = buf[0]
                .iter()
                .zip(&x)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(worst <= tol, "{fmt:?}: {worst}");
        }
        // A file cut short after it was opened (a copy still in progress, a failing disk),
        // longer than the read buffer so the cut is met while streaming.
        let target = d.join("long.wav");
        let mut sink = WavSink::create(&target, 1, 48_000, SampleFormat::Int16).unwrap();
        for _ in 0..1_500 {
            sink.write(&[&x[..]]).unwrap();
        }
        sink.finish().unwrap();
        let mut src = WavSource::open(&target).unwrap();
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
        assert!(
            e.to_string().contains("long.wav") && e.problem.contains("truncated"),
            "{e}"
        );
    }
}
