//! WAV reading: the RIFF chunks are walked here (RIFF, and RF64/BW64 with their `ds64` chunk
//! of 64-bit sizes), the `fmt` chunk is decoded (integer PCM, IEEE float, and
//! WAVE_FORMAT_EXTENSIBLE of either), `bext` and `iXML` are kept as [`Metadata`], then the
//! data chunk is read in blocks of raw bytes and converted to planar `f32`. Decoding whole
//! blocks is several times faster than a per-sample iterator (`examples/read_bench.rs`).

use std::fs::File;
use std::io::{BufReader, ErrorKind as IoKind, Read, Seek, SeekFrom};

use crate::format::{Container, Format};
use crate::metadata::{Bext, Metadata};
use crate::reader::{Header, Position};

/// `fmt` format tags.
const TAG_PCM: u16 = 1;
const TAG_FLOAT: u16 = 3;
const TAG_EXTENSIBLE: u16 = 0xFFFE;
/// The 14 bytes after the format tag in the sub-format GUID of WAVE_FORMAT_EXTENSIBLE
/// (`xxxxxxxx-0000-0010-8000-00aa00389b71`: KSDATAFORMAT_SUBTYPE_PCM / _IEEE_FLOAT).
const SUBFORMAT_TAIL: [u8; 14] = [
    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
];
/// A 32-bit chunk size meaning "see the ds64 chunk" in RF64/BW64 files.
const SIZE_IN_DS64: u32 = 0xFFFF_FFFF;
/// Largest `bext` or `iXML` chunk kept, bytes (a corrupt size must not allocate gigabytes;
/// a larger chunk is skipped).
const MAX_METADATA_BYTES: u64 = 64 << 20;
/// Largest `fmt`/`ds64` chunk read, bytes.
const MAX_HEADER_CHUNK_BYTES: u64 = 1 << 16;

const SUPPORTED: &str = "supported: 8/16/24/32-bit integer PCM, 32/64-bit IEEE float, \
                         and WAVE_FORMAT_EXTENSIBLE of those";

/// How the samples of the data chunk are stored (by container size).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    /// 8-bit unsigned, offset 128.
    U8,
    I16,
    /// 24-bit in 3 bytes.
    I24,
    /// 32-bit container (also 24 valid bits left-justified in 4 bytes).
    I32,
    F32,
    F64,
}

impl Encoding {
    fn bytes(self) -> usize {
        match self {
            Encoding::U8 => 1,
            Encoding::I16 => 2,
            Encoding::I24 => 3,
            Encoding::I32 | Encoding::F32 => 4,
            Encoding::F64 => 8,
        }
    }
}

/// The data chunk of a WAV file, positioned at the next frame.
pub(crate) struct WavDecoder {
    reader: BufReader<File>,
    encoding: Encoding,
    /// Raw bytes of the block being converted (grows to the largest block read).
    bytes: Vec<u8>,
}

/// The `fmt` chunk, decoded.
struct Fmt {
    channels: usize,
    sample_rate_hz: u32,
    encoding: Encoding,
    /// Bits that carry the signal (the extensible format's valid bits).
    valid_bits: u32,
}

/// The `ds64` chunk of an RF64/BW64 file: 64-bit sizes.
struct Ds64 {
    data_bytes: u64,
    /// Other chunks whose 32-bit size is [`SIZE_IN_DS64`].
    table: Vec<([u8; 4], u64)>,
}

const TRUNCATED_HEADER: &str = "truncated: the file ends inside the WAV header";

fn corrupt(what: impl std::fmt::Display) -> String {
    format!("not a WAV file, or a corrupt header ({what})")
}

fn read_problem(e: std::io::Error) -> String {
    if e.kind() == IoKind::UnexpectedEof {
        TRUNCATED_HEADER.to_string()
    } else {
        format!("cannot read: {e}")
    }
}

/// Reads `n` bytes at `offset` straight from the file (not through the 1 MiB read buffer,
/// which each seek would refill; [`WavDecoder::open`] seeks the buffered reader to the audio
/// at the end, which discards what it held).
fn read_at(reader: &mut BufReader<File>, offset: u64, n: usize) -> Result<Vec<u8>, String> {
    let file = reader.get_mut();
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| format!("cannot read: {e}"))?;
    let mut buf = vec![0u8; n];
    file.read_exact(&mut buf).map_err(read_problem)?;
    Ok(buf)
}

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}

fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}

fn u64_at(b: &[u8], o: usize) -> u64 {
    u64::from(u32_at(b, o)) | (u64::from(u32_at(b, o + 4)) << 32)
}

fn parse_ds64(b: &[u8]) -> Result<Ds64, String> {
    if b.len() < 28 {
        return Err(corrupt(format!("ds64 chunk of {} bytes", b.len())));
    }
    let entries = u32_at(b, 24) as usize;
    let table = (0..entries)
        .map_while(|i| {
            let o = 28 + 12 * i;
            (o + 12 <= b.len()).then(|| {
                let id: [u8; 4] = b[o..o + 4].try_into().expect("4 bytes");
                (id, u64_at(b, o + 4))
            })
        })
        .collect();
    Ok(Ds64 {
        data_bytes: u64_at(b, 8),
        table,
    })
}

fn parse_fmt(b: &[u8]) -> Result<Fmt, String> {
    if b.len() < 16 {
        return Err(corrupt(format!("fmt chunk of {} bytes", b.len())));
    }
    let mut tag = u16_at(b, 0);
    let channels = u16_at(b, 2) as usize;
    let sample_rate_hz = u32_at(b, 4);
    let block_align = u16_at(b, 12) as usize;
    let bits = u16_at(b, 14) as u32;
    let mut valid_bits = bits;
    if tag == TAG_EXTENSIBLE {
        if b.len() < 40 {
            return Err(corrupt(format!(
                "WAVE_FORMAT_EXTENSIBLE fmt chunk of {} bytes, 40 expected",
                b.len()
            )));
        }
        let valid = u16_at(b, 18) as u32;
        if valid != 0 {
            valid_bits = valid;
        }
        if b[26..40] != SUBFORMAT_TAIL {
            let hex: String = b[24..40].iter().map(|x| format!("{x:02x}")).collect();
            return Err(format!(
                "unsupported WAV encoding: WAVE_FORMAT_EXTENSIBLE sub-format {hex} ({SUPPORTED})"
            ));
        }
        tag = u16_at(b, 24);
    }
    if channels == 0 {
        return Err("the header declares no channels".into());
    }
    if block_align == 0 || !block_align.is_multiple_of(channels) {
        return Err(corrupt(format!(
            "block align {block_align} bytes for {channels} channels"
        )));
    }
    let container = block_align / channels;
    let too_wide = valid_bits == 0 || valid_bits > 8 * container as u32;
    let encoding = match (tag, container) {
        (TAG_PCM, 1) => Encoding::U8,
        (TAG_PCM, 2) => Encoding::I16,
        (TAG_PCM, 3) => Encoding::I24,
        (TAG_PCM, 4) => Encoding::I32,
        (TAG_FLOAT, 4) if bits == 32 => Encoding::F32,
        (TAG_FLOAT, 8) if bits == 64 => Encoding::F64,
        (TAG_PCM, _) => {
            return Err(format!(
                "unsupported sample format: {bits}-bit integer in {container} bytes ({SUPPORTED})"
            ));
        }
        (TAG_FLOAT, _) => {
            return Err(format!(
                "unsupported sample format: {bits}-bit float in {container} bytes ({SUPPORTED})"
            ));
        }
        (other, _) => {
            let name = match other {
                2 | 0x11 => "ADPCM",
                6 => "A-law",
                7 => "mu-law",
                0x50 | 0x55 => "MPEG",
                _ => "compressed or unknown",
            };
            return Err(format!(
                "unsupported WAV encoding: format tag 0x{other:04X} ({name}; {SUPPORTED})"
            ));
        }
    };
    if too_wide {
        return Err(corrupt(format!(
            "{valid_bits} bits per sample in {container}-byte samples"
        )));
    }
    Ok(Fmt {
        channels,
        sample_rate_hz,
        encoding,
        valid_bits,
    })
}

impl WavDecoder {
    /// Walks the chunks of a WAV/RF64/BW64 file (`reader` at its start, `file_bytes` long):
    /// decodes `fmt`, keeps `bext` and `iXML` (before or after the audio), and checks the
    /// data chunk is all there. Errors are problems without the path.
    pub fn open(
        mut reader: BufReader<File>,
        file_bytes: u64,
    ) -> Result<(Self, Header, Metadata), String> {
        let head = read_at(&mut reader, 0, 12)?;
        let rf64 = match &head[0..4] {
            b"RIFF" => false,
            b"RF64" | b"BW64" => true,
            _ => return Err(corrupt("no RIFF, RF64 or BW64 tag")),
        };
        if &head[8..12] != b"WAVE" {
            return Err(corrupt("no WAVE tag"));
        }
        let mut ds64: Option<Ds64> = None;
        let mut fmt: Option<Fmt> = None;
        let mut data: Option<(u64, u64)> = None;
        let mut metadata = Metadata::default();
        let mut pos = 12u64;
        while pos + 8 <= file_bytes {
            let h = read_at(&mut reader, pos, 8)?;
            let id: [u8; 4] = h[0..4].try_into().expect("4 bytes");
            let size32 = u32_at(&h, 4);
            let body = pos + 8;
            let size = match &ds64 {
                Some(d) if size32 == SIZE_IN_DS64 => {
                    if &id == b"data" {
                        d.data_bytes
                    } else {
                        d.table
                            .iter()
                            .find(|(t, _)| *t == id)
                            .map_or(u64::from(size32), |e| e.1)
                    }
                }
                _ => u64::from(size32),
            };
            let complete = body.saturating_add(size) <= file_bytes;
            match &id {
                b"ds64" if rf64 && pos == 12 => {
                    if !complete {
                        return Err(TRUNCATED_HEADER.into());
                    }
                    if size > MAX_HEADER_CHUNK_BYTES {
                        return Err(corrupt(format!("ds64 chunk of {size} bytes")));
                    }
                    ds64 = Some(parse_ds64(&read_at(&mut reader, body, size as usize)?)?);
                }
                b"fmt " if fmt.is_none() => {
                    if !complete {
                        return Err(TRUNCATED_HEADER.into());
                    }
                    let n = size.min(MAX_HEADER_CHUNK_BYTES) as usize;
                    fmt = Some(parse_fmt(&read_at(&mut reader, body, n)?)?);
                }
                b"bext" if complete && size <= MAX_METADATA_BYTES => {
                    // A bext chunk too short to hold its fields is left out, not fatal: the
                    // audio is still good.
                    let bytes = read_at(&mut reader, body, size as usize)?;
                    metadata.bext = Bext::parse(&bytes).ok();
                }
                b"iXML" if complete && size <= MAX_METADATA_BYTES => {
                    metadata.ixml = Some(read_at(&mut reader, body, size as usize)?);
                }
                b"data" if data.is_none() => {
                    if rf64 && ds64.is_none() {
                        return Err(corrupt("an RF64 file without a ds64 chunk"));
                    }
                    data = Some((body, size));
                }
                _ => {}
            }
            // Chunks are padded to an even size.
            pos = body.saturating_add(size).saturating_add(size & 1);
        }
        let Some(fmt) = fmt else {
            return Err(if data.is_some() {
                corrupt("no fmt chunk")
            } else {
                TRUNCATED_HEADER.into()
            });
        };
        let Some((data_start, data_bytes)) = data else {
            return Err(format!("{TRUNCATED_HEADER} (no data chunk)"));
        };
        let frame_bytes = (fmt.channels * fmt.encoding.bytes()) as u64;
        let frames = data_bytes / frame_bytes;
        let available = file_bytes.saturating_sub(data_start);
        if available < frames * frame_bytes {
            let held = available / frame_bytes;
            let sr = fmt.sample_rate_hz.max(1) as f64;
            return Err(format!(
                "truncated: the header announces {frames} frames ({:.2} s) but the file holds \
                 only {held} ({:.2} s)",
                frames as f64 / sr,
                held as f64 / sr
            ));
        }
        reader
            .seek(SeekFrom::Start(data_start))
            .map_err(|e| format!("cannot read: {e}"))?;
        let header = Header {
            channels: fmt.channels,
            sample_rate_hz: fmt.sample_rate_hz,
            frames,
            format: Format {
                container: Container::Wav,
                bits_per_sample: fmt.valid_bits,
                float: matches!(fmt.encoding, Encoding::F32 | Encoding::F64),
            },
        };
        let decoder = Self {
            reader,
            encoding: fmt.encoding,
            bytes: Vec::new(),
        };
        Ok((decoder, header, metadata))
    }

    /// Reads exactly `n` frames of `channels` channels into `out[..][..n]`. 64-bit float
    /// samples are rounded to the nearest `f32`.
    pub fn read<C: AsMut<[f32]>>(
        &mut self,
        out: &mut [C],
        n: usize,
        channels: usize,
        at: Position,
    ) -> Result<(), String> {
        let bps = self.encoding.bytes();
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
            match self.encoding {
                Encoding::U8 => {
                    for (i, d) in dst.iter_mut().enumerate() {
                        *d = (b[i * ch + c] as f32 - 128.0) * (1.0 / 128.0);
                    }
                }
                Encoding::I16 => {
                    for (i, d) in dst.iter_mut().enumerate() {
                        let o = (i * ch + c) * 2;
                        *d = i16::from_le_bytes([b[o], b[o + 1]]) as f32 * (1.0 / 32_768.0);
                    }
                }
                Encoding::I24 => {
                    for (i, d) in dst.iter_mut().enumerate() {
                        let o = (i * ch + c) * 3;
                        let v = i32::from_le_bytes([0, b[o], b[o + 1], b[o + 2]]) >> 8;
                        *d = v as f32 * (1.0 / 8_388_608.0);
                    }
                }
                Encoding::I32 => {
                    for (i, d) in dst.iter_mut().enumerate() {
                        let o = (i * ch + c) * 4;
                        let v = i32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
                        *d = v as f32 * (1.0 / 2_147_483_648.0);
                    }
                }
                Encoding::F32 => {
                    for (i, d) in dst.iter_mut().enumerate() {
                        let o = (i * ch + c) * 4;
                        *d = f32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
                    }
                }
                Encoding::F64 => {
                    for (i, d) in dst.iter_mut().enumerate() {
                        let o = (i * ch + c) * 8;
                        let v = f64::from_le_bytes(b[o..o + 8].try_into().expect("8 bytes"));
                        *d = v as f32;
                    }
                }
            }
        }
        Ok(())
    }
}
