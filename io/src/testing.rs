//! Test files: an uncompressed FLAC writer, so tests can make FLAC files of any bit depth
//! without an encoder installed (the files are valid FLAC, only not compressed), and WAV
//! builders ([`chunk`], [`riff`], [`fmt`], [`rf64`]), so tests can lay out WAV, RF64 and BWF
//! files byte by byte as other software writes them, whatever this crate's writer does.
//!
//! Each FLAC frame holds [`FRAME_FRAMES`] frames in VERBATIM subframes, with the sample size in
//! every frame header and the total length in STREAMINFO, as the FLAC format specification
//! describes; the MD5 signature is left zero ("not computed").

use std::path::Path;

use crate::error::{Error, Result};

/// Frames per FLAC frame (the reference encoder's default block size).
pub const FRAME_FRAMES: usize = 4_096;

/// Appends bits most significant first.
struct Bits {
    bytes: Vec<u8>,
    acc: u64,
    len: u32,
}

impl Bits {
    fn new() -> Self {
        Self {
            bytes: Vec::new(),
            acc: 0,
            len: 0,
        }
    }

    /// The low `n` bits of `v` (n <= 32).
    fn put(&mut self, v: u64, n: u32) {
        self.acc = (self.acc << n) | (v & ((1u64 << n) - 1));
        self.len += n;
        while self.len >= 8 {
            self.len -= 8;
            self.bytes.push((self.acc >> self.len) as u8);
        }
        self.acc &= (1u64 << self.len) - 1;
    }

    /// Pads with zero bits to a whole byte.
    fn align(&mut self) {
        if self.len > 0 {
            self.put(0, 8 - self.len);
        }
    }
}

/// CRC-8, polynomial x^8 + x^2 + x + 1, initial 0 (FLAC frame headers).
fn crc8(bytes: &[u8]) -> u8 {
    let mut crc = 0u8;
    for &b in bytes {
        crc ^= b;
        for _ in 0..8 {
            crc = if crc & 0x80 != 0 {
                (crc << 1) ^ 0x07
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// CRC-16, polynomial x^16 + x^15 + x^2 + 1, initial 0 (FLAC frames).
fn crc16(bytes: &[u8]) -> u16 {
    let mut crc = 0u16;
    for &b in bytes {
        crc ^= (b as u16) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x8005
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// The frame number in FLAC's UTF-8-like coding (up to 31 bits).
fn put_coded_number(bits: &mut Bits, v: u32) {
    if v < 0x80 {
        bits.put(v as u64, 8);
        return;
    }
    // Continuation bytes carry 6 bits each; the first byte holds the rest after a
    // length prefix of `extra + 1` ones and a zero.
    let extra = match v {
        0..0x800 => 1,
        0x800..0x1_0000 => 2,
        0x1_0000..0x20_0000 => 3,
        0x20_0000..0x400_0000 => 4,
        _ => 5,
    };
    let prefix = (0xFF00u32 >> (extra + 1)) as u8; // extra + 1 leading ones
    let first_bits = 6 - extra;
    bits.put(
        (prefix as u32 | (v >> (6 * extra)) & ((1 << first_bits) - 1)) as u64,
        8,
    );
    for i in (0..extra).rev() {
        bits.put((0x80 | ((v >> (6 * i)) & 0x3F)) as u64, 8);
    }
}

/// Writes planar `channels` (full scale = 1.0, rounded and clamped) as an uncompressed FLAC
/// file of `bits_per_sample` bits (8, 12, 16, 20 or 24).
pub fn write_flac_verbatim(
    path: &Path,
    sample_rate_hz: u32,
    bits_per_sample: u32,
    channels: &[Vec<f32>],
) -> Result<()> {
    let size_code = match bits_per_sample {
        8 => 1,
        12 => 2,
        16 => 4,
        20 => 5,
        24 => 6,
        other => {
            return Err(Error::output(
                path,
                format!("{other}-bit FLAC is not written (8, 12, 16, 20 or 24)"),
            ));
        }
    };
    if channels.is_empty() || channels.len() > 8 {
        return Err(Error::output(path, "FLAC holds 1 to 8 channels"));
    }
    let frames = channels[0].len();
    let full_scale = (1i64 << (bits_per_sample - 1)) as f64;
    let mut out = Bits::new();
    out.bytes.extend_from_slice(b"fLaC");
    // STREAMINFO, the last (only) metadata block: 34 bytes.
    out.put(1, 1);
    out.put(0, 7);
    out.put(34, 24);
    out.put(FRAME_FRAMES as u64, 16); // minimum block size
    out.put(FRAME_FRAMES as u64, 16); // maximum block size
    out.put(0, 24); // minimum frame size: unknown
    out.put(0, 24); // maximum frame size: unknown
    out.put(sample_rate_hz as u64, 20);
    out.put(channels.len() as u64 - 1, 3);
    out.put(bits_per_sample as u64 - 1, 5);
    out.put((frames as u64) >> 32, 4);
    out.put(frames as u64 & 0xFFFF_FFFF, 32);
    for _ in 0..4 {
        out.put(0, 32); // MD5: not computed
    }
    for (number, start) in (0..frames).step_by(FRAME_FRAMES).enumerate() {
        let len = FRAME_FRAMES.min(frames - start);
        let frame_start = out.bytes.len();
        out.put(0b11_1111_1111_1110, 14); // sync code
        out.put(0, 1); // reserved
        out.put(0, 1); // fixed block size
        out.put(0b0111, 4); // block size - 1 in 16 bits after the header
        out.put(0, 4); // sample rate: from STREAMINFO
        out.put(channels.len() as u64 - 1, 4); // independent channels
        out.put(size_code, 3);
        out.put(0, 1); // reserved
        put_coded_number(&mut out, number as u32);
        out.put(len as u64 - 1, 16);
        let crc = crc8(&out.bytes[frame_start..]);
        out.put(crc as u64, 8);
        for ch in channels {
            out.put(0b0000_0010, 8); // VERBATIM, no wasted bits
            for &x in &ch[start..start + len] {
                let v = (x as f64 * full_scale)
                    .round()
                    .clamp(-full_scale, full_scale - 1.0) as i64;
                out.put(v as u64, bits_per_sample);
            }
        }
        out.align();
        let crc = crc16(&out.bytes[frame_start..]);
        out.put(crc as u64, 16);
    }
    std::fs::write(path, &out.bytes).map_err(|e| Error::output(path, format!("cannot write: {e}")))
}

/// RIFF chunk `id` with `body`, and the pad byte of an odd size (the size field stays odd).
pub fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut c = id.to_vec();
    c.extend_from_slice(&(body.len() as u32).to_le_bytes());
    c.extend_from_slice(body);
    if body.len() % 2 == 1 {
        c.push(0);
    }
    c
}

/// A RIFF/WAVE file of `chunks` (each made by [`chunk`]), in that order.
pub fn riff(chunks: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = chunks.concat();
    let mut f = b"RIFF".to_vec();
    f.extend_from_slice(&(body.len() as u32 + 4).to_le_bytes());
    f.extend_from_slice(b"WAVE");
    f.extend_from_slice(&body);
    f
}

/// A plain `fmt ` chunk body (16 bytes): format `tag` (1 integer PCM, 3 IEEE float),
/// `channels`, `rate_hz`, `bits` per sample in `container_bytes` per sample.
pub fn fmt(tag: u16, channels: u16, rate_hz: u32, bits: u16, container_bytes: u16) -> Vec<u8> {
    let align = channels * container_bytes;
    let mut b = Vec::new();
    b.extend_from_slice(&tag.to_le_bytes());
    b.extend_from_slice(&channels.to_le_bytes());
    b.extend_from_slice(&rate_hz.to_le_bytes());
    b.extend_from_slice(&(rate_hz * align as u32).to_le_bytes());
    b.extend_from_slice(&align.to_le_bytes());
    b.extend_from_slice(&bits.to_le_bytes());
    b
}

/// An RF64 (`tag` `RF64`) or BW64 (`BW64`) file: `ds64` first with the 64-bit RIFF and data
/// sizes and the frame count (data bytes over the block align of `fmt_body`), then `fmt `,
/// the chunks `before` (e.g. metadata), and `data` with the 32-bit size 0xFFFFFFFF.
pub fn rf64(tag: &[u8; 4], fmt_body: &[u8], data: &[u8], before: &[Vec<u8>]) -> Vec<u8> {
    let fmt_chunk = chunk(b"fmt ", fmt_body);
    let before: Vec<u8> = before.concat();
    let pad = data.len() % 2;
    let riff_bytes = 4 + 36 + fmt_chunk.len() + before.len() + 8 + data.len() + pad;
    let align = fmt_body
        .get(12..14)
        .map_or(0, |a| u16::from_le_bytes([a[0], a[1]]) as usize);
    let frames = data.len().checked_div(align).unwrap_or(0);
    let mut ds64 = Vec::new();
    ds64.extend_from_slice(&(riff_bytes as u64).to_le_bytes());
    ds64.extend_from_slice(&(data.len() as u64).to_le_bytes());
    ds64.extend_from_slice(&(frames as u64).to_le_bytes());
    ds64.extend_from_slice(&0u32.to_le_bytes()); // no table entries
    let mut f = tag.to_vec();
    f.extend_from_slice(&u32::MAX.to_le_bytes());
    f.extend_from_slice(b"WAVE");
    f.extend_from_slice(&chunk(b"ds64", &ds64));
    f.extend_from_slice(&fmt_chunk);
    f.extend_from_slice(&before);
    f.extend_from_slice(b"data");
    f.extend_from_slice(&u32::MAX.to_le_bytes());
    f.extend_from_slice(data);
    if pad == 1 {
        f.push(0);
    }
    debug_assert_eq!(f.len(), riff_bytes + 8);
    f
}
