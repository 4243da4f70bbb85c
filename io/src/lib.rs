//! # underscore-io
//!
//! Audio files for Underscore's tools (scene renders, the editor picture): FLAC or WAV in (any
//! integer bit depth, or float), planar `f32`; 32-bit float WAV out. Errors name the file and
//! the problem.

use std::path::Path;

/// A planar multichannel signal with its sample rate.
pub struct Audio {
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

/// Reads a `.flac` or `.wav` file into planar floats; the error names the file and the problem.
pub fn read_audio(path: &Path) -> Result<Audio, String> {
    let what = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let is_flac = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("flac"));
    let (sample_rate, n_ch, interleaved) = if is_flac {
        let mut r = claxon::FlacReader::open(path).map_err(|e| what(&e))?;
        let info = r.streaminfo();
        let scale = 1.0 / (1u64 << (info.bits_per_sample - 1)) as f32;
        let samples: Result<Vec<f32>, _> =
            r.samples().map(|s| s.map(|v| v as f32 * scale)).collect();
        (
            info.sample_rate,
            info.channels as usize,
            samples.map_err(|e| what(&e))?,
        )
    } else {
        let mut r = hound::WavReader::open(path).map_err(|e| what(&e))?;
        let spec = r.spec();
        let samples: Result<Vec<f32>, _> = match spec.sample_format {
            hound::SampleFormat::Float => r.samples::<f32>().collect(),
            hound::SampleFormat::Int => {
                let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
                r.samples::<i32>()
                    .map(|s| s.map(|v| v as f32 * scale))
                    .collect()
            }
        };
        (
            spec.sample_rate,
            spec.channels as usize,
            samples.map_err(|e| what(&e))?,
        )
    };
    if n_ch == 0 {
        return Err(format!("{}: no channels", path.display()));
    }
    let frames = interleaved.len() / n_ch;
    let mut channels = vec![Vec::with_capacity(frames); n_ch];
    for frame in interleaved.chunks_exact(n_ch) {
        for (ch, &v) in channels.iter_mut().zip(frame) {
            ch.push(v);
        }
    }
    Ok(Audio {
        sample_rate,
        channels,
    })
}

/// Writes planar floats as a 32-bit float WAV.
pub fn write_wav(path: &Path, sample_rate: u32, channels: &[Vec<f32>]) -> Result<(), String> {
    let what = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).map_err(|e| what(&e))?;
    let frames = channels.first().map_or(0, Vec::len);
    for i in 0..frames {
        for ch in channels {
            w.write_sample(ch[i]).map_err(|e| what(&e))?;
        }
    }
    w.finalize().map_err(|e| what(&e))
}
