//! [`WavWriter`]: a WAV file written block by block through a temporary file, and
//! [`write_atomically`] for small files written at once (reports, JSON).
//!
//! Both write to `<target>.tmp-<pid>` beside the target and rename it into place only when
//! complete: a reader never sees a half-written file, and a failed or abandoned write (an
//! error, a panic) leaves nothing behind.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::format::SampleFormat;

/// Write buffer, bytes.
const WRITE_BUFFER_BYTES: usize = 1 << 20;

/// `<target>.tmp-<pid>` beside `target`.
pub fn temp_path(target: &Path) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp-{}", std::process::id()));
    target.with_file_name(name)
}

fn cannot_write(target: &Path, e: &dyn std::fmt::Display) -> Error {
    Error::output(target, format!("cannot write: {e}"))
}

/// Creates the folder `path` goes into, if it has one.
fn create_parent(path: &Path) -> Result<()> {
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => std::fs::create_dir_all(dir).map_err(|e| cannot_write(path, &e)),
        None => Ok(()),
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename (creating the folder).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    create_parent(path)?;
    let temp = temp_path(path);
    if let Err(e) = std::fs::write(&temp, bytes).and_then(|_| std::fs::rename(&temp, path)) {
        let _ = std::fs::remove_file(&temp);
        return Err(cannot_write(path, &e));
    }
    Ok(())
}

fn hound_spec(format: SampleFormat, channels: usize, sample_rate_hz: u32) -> hound::WavSpec {
    let sample_format = match format {
        SampleFormat::Float32 => hound::SampleFormat::Float,
        _ => hound::SampleFormat::Int,
    };
    hound::WavSpec {
        channels: channels as u16,
        sample_rate: sample_rate_hz,
        bits_per_sample: format.bits() as u16,
        sample_format,
    }
}

/// A WAV file being written through a temporary file, renamed into place by
/// [`WavWriter::finish`]. Dropped unfinished, it removes the temporary file.
pub struct WavWriter {
    target: PathBuf,
    temp: PathBuf,
    writer: Option<hound::WavWriter<BufWriter<File>>>,
    format: SampleFormat,
    channels: usize,
    /// Samples clipped to full scale (integer formats only).
    clipped: u64,
}

impl WavWriter {
    /// Starts writing `channels` channels at `sample_rate_hz` in `format` to a temporary file
    /// beside `target` (creating its folder).
    pub fn create(
        target: &Path,
        channels: usize,
        sample_rate_hz: u32,
        format: SampleFormat,
    ) -> Result<Self> {
        if channels == 0 || channels > u16::MAX as usize {
            return Err(Error::output(
                target,
                format!("cannot write a WAV file with {channels} channels"),
            ));
        }
        create_parent(target)?;
        let temp = temp_path(target);
        let file = File::create(&temp).map_err(|e| cannot_write(target, &e))?;
        let spec = hound_spec(format, channels, sample_rate_hz);
        let writer =
            hound::WavWriter::new(BufWriter::with_capacity(WRITE_BUFFER_BYTES, file), spec)
                .map_err(|e| {
                    let _ = std::fs::remove_file(&temp);
                    cannot_write(target, &e)
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

    /// Channels per frame.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// The encoding being written.
    pub fn format(&self) -> SampleFormat {
        self.format
    }

    /// Samples clipped at full scale so far (integer formats; float output never clips).
    pub fn clipped_samples(&self) -> u64 {
        self.clipped
    }

    /// The final path.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Appends one block of planar frames: `channels[c][i]` is sample `i` of channel `c`;
    /// every channel the same length. Integer formats round to the nearest step and clip at
    /// full scale (counted in [`Self::clipped_samples`]).
    pub fn write<C: AsRef<[f32]>>(&mut self, channels: &[C]) -> Result<()> {
        if channels.len() != self.channels {
            return Err(Error::output(
                &self.target,
                format!(
                    "{} channels given for a {}-channel file",
                    channels.len(),
                    self.channels
                ),
            ));
        }
        let frames = channels.first().map_or(0, |c| c.as_ref().len());
        if channels.iter().any(|c| c.as_ref().len() != frames) {
            return Err(Error::output(
                &self.target,
                "channels of different lengths given for one block",
            ));
        }
        let Some(w) = self.writer.as_mut() else {
            return Ok(());
        };
        let target = &self.target;
        let fail = |e: hound::Error| cannot_write(target, &e);
        match self.format {
            SampleFormat::Float32 => {
                for i in 0..frames {
                    for c in channels {
                        w.write_sample(c.as_ref()[i]).map_err(fail)?;
                    }
                }
            }
            SampleFormat::Int16 => {
                for i in 0..frames {
                    for c in channels {
                        let v = to_int(c.as_ref()[i], 32_768.0, &mut self.clipped) as i16;
                        w.write_sample(v).map_err(fail)?;
                    }
                }
            }
            SampleFormat::Int24 | SampleFormat::Int32 => {
                let full_scale = if self.format == SampleFormat::Int24 {
                    8_388_608.0
                } else {
                    2_147_483_648.0
                };
                for i in 0..frames {
                    for c in channels {
                        let v = to_int(c.as_ref()[i], full_scale, &mut self.clipped);
                        w.write_sample(v).map_err(fail)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Completes the header and renames the temporary file to the target.
    pub fn finish(mut self) -> Result<PathBuf> {
        if let Some(w) = self.writer.take() {
            w.finalize().map_err(|e| cannot_write(&self.target, &e))?;
        }
        std::fs::rename(&self.temp, &self.target).map_err(|e| cannot_write(&self.target, &e))?;
        Ok(self.target.clone())
    }
}

impl Drop for WavWriter {
    fn drop(&mut self) {
        // Finished: the temporary file was renamed. Otherwise close it (without completing
        // the header) and remove it.
        if self.writer.take().is_some() || self.temp.exists() {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// `x` as an integer of `full_scale` steps per unit, rounded and clamped; counts clipping.
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
