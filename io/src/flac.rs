//! FLAC reading with `claxon`: the stream header gives rate, channels, bit depth and length;
//! frames are decoded one at a time into a reused buffer and handed out as planar `f32`.

use std::fs::File;
use std::io::{BufReader, ErrorKind as IoKind};

use crate::format::{Container, Format};
use crate::reader::{Header, Position};

/// A FLAC stream, positioned inside (or at the end of) a decoded frame.
pub(crate) struct FlacDecoder {
    reader: claxon::FlacReader<BufReader<File>>,
    /// The current frame, planar: channel `c` at `[c * block_frames..][..block_frames]`.
    block: Vec<i32>,
    block_frames: usize,
    /// Frames of the current frame already handed out.
    block_pos: usize,
    /// Integer to full scale = 1.0.
    scale: f32,
}

impl FlacDecoder {
    /// Reads the stream header and metadata. Errors are problems without the path.
    pub fn open(reader: BufReader<File>) -> Result<(Self, Header), String> {
        let reader = claxon::FlacReader::new(reader).map_err(|e| match e {
            claxon::Error::IoError(e) if e.kind() == IoKind::UnexpectedEof => {
                "truncated: the file ends inside the FLAC header".to_string()
            }
            claxon::Error::IoError(e) => format!("cannot read: {e}"),
            claxon::Error::FormatError(what) => {
                format!("not a FLAC file, or a corrupt header ({what})")
            }
            claxon::Error::Unsupported(what) => format!("unsupported FLAC stream ({what})"),
        })?;
        let info = reader.streaminfo();
        let frames = info.samples.ok_or(
            "the FLAC header does not state the length of the stream (re-encode the file)",
        )?;
        let header = Header {
            channels: info.channels as usize,
            sample_rate_hz: info.sample_rate,
            frames,
            format: Format {
                container: Container::Flac,
                bits_per_sample: info.bits_per_sample,
                float: false,
            },
        };
        let decoder = Self {
            reader,
            block: Vec::new(),
            block_frames: 0,
            block_pos: 0,
            scale: (0.5f64).powi(info.bits_per_sample as i32 - 1) as f32,
        };
        Ok((decoder, header))
    }

    /// Decodes the next frame into `self.block`.
    fn next_block(&mut self, channels: usize, at: Position, done: usize) -> Result<(), String> {
        let buffer = std::mem::take(&mut self.block);
        let block = match self.reader.blocks().read_next_or_eof(buffer) {
            Ok(Some(block)) => block,
            Ok(None) => return Err(at.truncated(done)),
            Err(claxon::Error::IoError(e)) if e.kind() == IoKind::UnexpectedEof => {
                return Err(at.truncated(done));
            }
            Err(claxon::Error::IoError(e)) => {
                return Err(format!(
                    "read error after {} frames: {e}",
                    at.frames_read + done as u64
                ));
            }
            Err(claxon::Error::FormatError(what)) => {
                return Err(format!(
                    "corrupt FLAC data after about {} frames ({what})",
                    at.frames_read + done as u64
                ));
            }
            Err(claxon::Error::Unsupported(what)) => {
                return Err(format!("unsupported FLAC stream ({what})"));
            }
        };
        if block.channels() as usize != channels {
            return Err(format!(
                "corrupt FLAC data: a frame holds {} channels, the header says {channels}",
                block.channels()
            ));
        }
        self.block_frames = block.duration() as usize;
        self.block_pos = 0;
        self.block = block.into_buffer();
        Ok(())
    }

    /// Reads exactly `n` frames of `channels` channels into `out[..][..n]`.
    pub fn read<C: AsMut<[f32]>>(
        &mut self,
        out: &mut [C],
        n: usize,
        channels: usize,
        at: Position,
    ) -> Result<(), String> {
        let mut done = 0;
        while done < n {
            if self.block_pos == self.block_frames {
                self.next_block(channels, at, done)?;
                continue;
            }
            let m = (n - done).min(self.block_frames - self.block_pos);
            for (c, dst) in out.iter_mut().enumerate().take(channels) {
                let start = c * self.block_frames + self.block_pos;
                let src = &self.block[start..start + m];
                for (d, &s) in dst.as_mut()[done..done + m].iter_mut().zip(src) {
                    *d = s as f32 * self.scale;
                }
            }
            self.block_pos += m;
            done += m;
        }
        Ok(())
    }
}
