//! [`WavWriter`]: a WAV file written block by block through a temporary file, and
//! [`write_atomically`] for small files written at once (reports, JSON).
//!
//! [`WavWriter`] writes the header itself (RIFF, optional `JUNK` reserved for RF64, `fmt `,
//! `bext`, `iXML`, `data`) and completes the sizes at the end.
//!
//! Both write to `<target>.tmp-<pid>` beside the target and rename it into place only when
//! complete: a reader never sees a half-written file, and a failed or abandoned write (an
//! error, a panic) leaves nothing behind.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::format::SampleFormat;
use crate::metadata::Metadata;

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

/// A plain RIFF file's limit: its 32-bit RIFF size counts the bytes after the first 8.
const RIFF_LIMIT_BYTES: u64 = u32::MAX as u64;
/// Contents of the `JUNK` chunk reserved for a `ds64` chunk (RIFF size, data size, sample
/// count: 64 bits each; table length 0), as EBU Tech 3306 lays out.
const DS64_BYTES: usize = 28;

/// What [`WavWriter::create_with`] writes besides the audio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WavOptions {
    /// `bext` and `iXML` chunks, written before the audio (padded to even sizes).
    pub metadata: Metadata,
    /// Reserve room for a `ds64` chunk (a 36-byte `JUNK` chunk first), so that a file which
    /// grows past 4 GiB is finished as RF64 (EBU Tech 3306) instead of being refused. On by
    /// default; a file under 4 GiB stays a plain RIFF WAV (with the `JUNK` chunk readers skip).
    pub reserve_rf64: bool,
}

impl Default for WavOptions {
    fn default() -> Self {
        Self {
            metadata: Metadata::default(),
            reserve_rf64: true,
        }
    }
}

/// Channel mask of WAVE_FORMAT_EXTENSIBLE: the first `channels` speaker positions (L R C LFE
/// Ls Rs for 5.1).
fn channel_mask(channels: usize) -> u32 {
    ((1u64 << channels.min(18)) - 1) as u32
}

/// Appends chunk `id` with `body`, plus the pad byte of an odd size.
fn put_chunk(out: &mut Vec<u8>, id: &[u8; 4], body: &[u8]) {
    out.extend_from_slice(id);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
    if body.len() % 2 == 1 {
        out.push(0);
    }
}

/// The `fmt` chunk's contents: PCMWAVEFORMAT for up to 2 channels of up to 16 bits,
/// WAVE_FORMAT_EXTENSIBLE otherwise (as Microsoft asks, and as hound wrote them before).
fn fmt_body(format: SampleFormat, channels: usize, sample_rate_hz: u32) -> Vec<u8> {
    let bits = format.bits() as u16;
    let block_align = (channels * format.bytes()) as u16;
    let extensible = channels > 2 || bits > 16;
    let mut b = Vec::with_capacity(40);
    b.extend_from_slice(&(if extensible { 0xFFFEu16 } else { 1 }).to_le_bytes());
    b.extend_from_slice(&(channels as u16).to_le_bytes());
    b.extend_from_slice(&sample_rate_hz.to_le_bytes());
    b.extend_from_slice(&(sample_rate_hz * u32::from(block_align)).to_le_bytes());
    b.extend_from_slice(&block_align.to_le_bytes());
    b.extend_from_slice(&bits.to_le_bytes());
    if extensible {
        b.extend_from_slice(&22u16.to_le_bytes());
        b.extend_from_slice(&bits.to_le_bytes());
        b.extend_from_slice(&channel_mask(channels).to_le_bytes());
        let sub: u16 = if format == SampleFormat::Float32 {
            3
        } else {
            1
        };
        b.extend_from_slice(&sub.to_le_bytes());
        b.extend_from_slice(&[
            0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
        ]);
    }
    b
}

/// A WAV file being written through a temporary file, renamed into place by
/// [`WavWriter::finish`]. Dropped unfinished, it removes the temporary file.
pub struct WavWriter {
    target: PathBuf,
    temp: PathBuf,
    writer: Option<BufWriter<File>>,
    format: SampleFormat,
    channels: usize,
    /// Samples clipped to full scale (integer formats only).
    clipped: u64,
    /// Audio bytes written so far.
    data_bytes: u64,
    /// Header bytes before the audio.
    header_bytes: u64,
    /// Offset of the data chunk's size field.
    data_size_at: u64,
    /// Whether a `JUNK` chunk at offset 12 can become `ds64`.
    reserve_rf64: bool,
    /// Largest RIFF size of a plain WAV ([`RIFF_LIMIT_BYTES`]; lowered by tests).
    riff_limit_bytes: u64,
    /// Samples of the block being written, as bytes.
    scratch: Vec<u8>,
}

impl WavWriter {
    /// Starts writing `channels` channels at `sample_rate_hz` in `format` to a temporary file
    /// beside `target` (creating its folder): a plain 44-byte (or 68-byte extensible) header,
    /// no metadata, refused beyond 4 GiB. [`Self::create_with`] writes metadata and RF64.
    pub fn create(
        target: &Path,
        channels: usize,
        sample_rate_hz: u32,
        format: SampleFormat,
    ) -> Result<Self> {
        let plain = WavOptions {
            metadata: Metadata::default(),
            reserve_rf64: false,
        };
        Self::create_with(target, channels, sample_rate_hz, format, &plain)
    }

    /// Like [`Self::create`], with `options`: the `bext` and `iXML` chunks to write before
    /// the audio, and whether a file growing past 4 GiB becomes RF64.
    pub fn create_with(
        target: &Path,
        channels: usize,
        sample_rate_hz: u32,
        format: SampleFormat,
        options: &WavOptions,
    ) -> Result<Self> {
        if channels == 0 || channels > u16::MAX as usize {
            return Err(Error::output(
                target,
                format!("cannot write a WAV file with {channels} channels"),
            ));
        }
        let mut header = Vec::with_capacity(128);
        header.extend_from_slice(b"RIFF\0\0\0\0WAVE");
        if options.reserve_rf64 {
            put_chunk(&mut header, b"JUNK", &[0; DS64_BYTES]);
        }
        put_chunk(
            &mut header,
            b"fmt ",
            &fmt_body(format, channels, sample_rate_hz),
        );
        if let Some(bext) = &options.metadata.bext {
            put_chunk(&mut header, b"bext", &bext.to_bytes());
        }
        if let Some(ixml) = &options.metadata.ixml {
            if ixml.len() as u64 > RIFF_LIMIT_BYTES / 2 {
                return Err(Error::output(
                    target,
                    format!("an iXML chunk of {} bytes is too large", ixml.len()),
                ));
            }
            put_chunk(&mut header, b"iXML", ixml);
        }
        header.extend_from_slice(b"data\0\0\0\0");
        create_parent(target)?;
        let temp = temp_path(target);
        let file = File::create(&temp).map_err(|e| cannot_write(target, &e))?;
        let mut writer = BufWriter::with_capacity(WRITE_BUFFER_BYTES, file);
        if let Err(e) = writer.write_all(&header) {
            drop(writer);
            let _ = std::fs::remove_file(&temp);
            return Err(cannot_write(target, &e));
        }
        Ok(Self {
            target: target.to_path_buf(),
            temp,
            writer: Some(writer),
            format,
            channels,
            clipped: 0,
            data_bytes: 0,
            header_bytes: header.len() as u64,
            data_size_at: header.len() as u64 - 4,
            reserve_rf64: options.reserve_rf64,
            riff_limit_bytes: RIFF_LIMIT_BYTES,
            scratch: Vec::new(),
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
    /// full scale (counted in [`Self::clipped_samples`]). A plain WAV (made by
    /// [`Self::create`]) that would pass 4 GiB is refused here, before anything is written.
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
        let bytes = (frames * self.channels * self.format.bytes()) as u64;
        let riff_bytes = self.header_bytes - 8 + self.data_bytes + bytes;
        if !self.reserve_rf64 && riff_bytes + 1 > self.riff_limit_bytes {
            return Err(Error::output(
                &self.target,
                format!(
                    "{:.2} GB of {} audio exceeds the WAV format's 4 GiB (write it with \
                     WavOptions::reserve_rf64 to get an RF64 file, or use a smaller bit depth)",
                    (self.data_bytes + bytes) as f64 / 1e9,
                    self.format.describe()
                ),
            ));
        }
        let Some(w) = self.writer.as_mut() else {
            return Ok(());
        };
        let s = &mut self.scratch;
        s.clear();
        s.reserve(bytes as usize);
        match self.format {
            SampleFormat::Float32 => {
                for i in 0..frames {
                    for c in channels {
                        s.extend_from_slice(&c.as_ref()[i].to_le_bytes());
                    }
                }
            }
            SampleFormat::Int16 => {
                for i in 0..frames {
                    for c in channels {
                        let v = to_int(c.as_ref()[i], 32_768.0, &mut self.clipped) as i16;
                        s.extend_from_slice(&v.to_le_bytes());
                    }
                }
            }
            SampleFormat::Int24 => {
                for i in 0..frames {
                    for c in channels {
                        let v = to_int(c.as_ref()[i], 8_388_608.0, &mut self.clipped);
                        s.extend_from_slice(&v.to_le_bytes()[..3]);
                    }
                }
            }
            SampleFormat::Int32 => {
                for i in 0..frames {
                    for c in channels {
                        let v = to_int(c.as_ref()[i], 2_147_483_648.0, &mut self.clipped);
                        s.extend_from_slice(&v.to_le_bytes());
                    }
                }
            }
        }
        w.write_all(s).map_err(|e| cannot_write(&self.target, &e))?;
        self.data_bytes += bytes;
        Ok(())
    }

    /// Completes the header (as RF64 if the file passed 4 GiB) and renames the temporary
    /// file to the target.
    pub fn finish(mut self) -> Result<PathBuf> {
        if let Some(w) = self.writer.take() {
            self.complete(w)
                .map_err(|e| cannot_write(&self.target, &e))?;
        }
        std::fs::rename(&self.temp, &self.target).map_err(|e| cannot_write(&self.target, &e))?;
        Ok(self.target.clone())
    }

    /// Pads the data chunk to an even size and writes the sizes into the header.
    fn complete(&self, mut w: BufWriter<File>) -> std::io::Result<()> {
        let pad = self.data_bytes % 2;
        if pad == 1 {
            w.write_all(&[0])?;
        }
        let mut file = w.into_inner().map_err(|e| e.into_error())?;
        let riff_bytes = self.header_bytes - 8 + self.data_bytes + pad;
        let frames = self.data_bytes / (self.channels * self.format.bytes()) as u64;
        let mut put = |at: u64, bytes: &[u8]| -> std::io::Result<()> {
            file.seek(SeekFrom::Start(at))?;
            file.write_all(bytes)
        };
        if riff_bytes > self.riff_limit_bytes || self.data_bytes > self.riff_limit_bytes {
            // RF64 (EBU Tech 3306): the reserved JUNK chunk becomes ds64 with the 64-bit
            // sizes; the 32-bit fields say "see ds64".
            put(0, b"RF64")?;
            put(4, &u32::MAX.to_le_bytes())?;
            let mut ds64 = Vec::with_capacity(8 + DS64_BYTES);
            ds64.extend_from_slice(b"ds64");
            ds64.extend_from_slice(&(DS64_BYTES as u32).to_le_bytes());
            ds64.extend_from_slice(&riff_bytes.to_le_bytes());
            ds64.extend_from_slice(&self.data_bytes.to_le_bytes());
            ds64.extend_from_slice(&frames.to_le_bytes());
            ds64.extend_from_slice(&0u32.to_le_bytes());
            put(12, &ds64)?;
            put(self.data_size_at, &u32::MAX.to_le_bytes())?;
        } else {
            put(4, &(riff_bytes as u32).to_le_bytes())?;
            put(self.data_size_at, &(self.data_bytes as u32).to_le_bytes())?;
        }
        file.flush()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AudioReader, Bext, read_audio};

    fn folder(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("underscore-io-w-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// The RF64 path without writing 4 GiB: the limit is lowered to 10 000 bytes, so a
    /// 12 000-byte data chunk is finished as RF64, the same as a 5 GB file would be.
    #[test]
    fn a_file_past_the_riff_limit_is_finished_as_rf64_and_reads_back() {
        let d = folder("rf64");
        let path = d.join("big.wav");
        let options = WavOptions {
            metadata: Metadata {
                bext: Some(Bext {
                    time_reference_samples: 172_800_000,
                    ..Bext::default()
                }),
                ixml: Some(b"<BWFXML/>".to_vec()),
            },
            reserve_rf64: true,
        };
        let x: Vec<Vec<f32>> = (0..2)
            .map(|c| {
                (0..1_500)
                    .map(|i| ((i + 7 * c) as f32 * 0.01).sin())
                    .collect()
            })
            .collect();
        let mut w =
            WavWriter::create_with(&path, 2, 48_000, SampleFormat::Float32, &options).unwrap();
        w.riff_limit_bytes = 10_000;
        w.write(&x).unwrap();
        w.finish().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap());
        let u64_at = |o: usize| u64::from_le_bytes(bytes[o..o + 8].try_into().unwrap());
        assert_eq!(&bytes[0..4], b"RF64");
        assert_eq!(u32_at(4), u32::MAX);
        assert_eq!((&bytes[12..16], u32_at(16)), (&b"ds64"[..], 28));
        assert_eq!(u64_at(20), bytes.len() as u64 - 8, "RIFF size");
        assert_eq!(u64_at(28), 12_000, "data size");
        assert_eq!(u64_at(36), 1_500, "sample count");
        let data_at = bytes.len() - 12_000;
        assert_eq!(&bytes[data_at - 8..data_at - 4], b"data");
        assert_eq!(u32_at(data_at - 4), u32::MAX);
        let r = AudioReader::open(&path).unwrap();
        assert_eq!(r.frames(), 1_500);
        assert_eq!(r.metadata(), &options.metadata);
        assert_eq!(read_audio(&path).unwrap().channels, x);
    }

    /// A plain WAV (no room reserved for ds64) that would pass the limit is refused at the
    /// block that crosses it, and leaves no file.
    #[test]
    fn a_plain_wav_past_the_limit_is_refused_with_the_reason() {
        let d = folder("plain");
        let path = d.join("big.wav");
        let mut w = WavWriter::create(&path, 1, 48_000, SampleFormat::Int16).unwrap();
        w.riff_limit_bytes = 1_000;
        w.write(&[vec![0.0f32; 400]]).unwrap();
        let e = w.write(&[vec![0.0f32; 100]]).err().unwrap();
        assert!(e.problem.contains("exceeds the WAV format's 4 GiB"), "{e}");
        drop(w);
        assert!(!path.exists() && !temp_path(&path).exists());
    }
}
