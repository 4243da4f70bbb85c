//! Sample encodings: [`Format`] describes a file being read (WAV or FLAC, any bit depth the
//! container allows); [`SampleFormat`] is one of the WAV encodings the writer produces.

/// The file type, recognised by its first bytes (`RIFF` or `fLaC`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    Wav,
    Flac,
}

/// How the samples of a file being read are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Format {
    pub container: Container,
    /// Bits per sample (FLAC: any depth the stream declares; WAV: 8, 16, 24 or 32 integer,
    /// 32 or 64 float; for WAVE_FORMAT_EXTENSIBLE the valid bits, e.g. 24 in 32-bit words).
    pub bits_per_sample: u32,
    /// IEEE float samples (WAV 32 or 64-bit float only); integer otherwise.
    pub float: bool,
}

impl Format {
    /// The WAV encoding with the same samples, if there is one (FLAC 16/24-bit map onto the
    /// integer WAV formats; 8-bit and 64-bit float have none).
    pub fn sample_format(&self) -> Option<SampleFormat> {
        match (self.float, self.bits_per_sample) {
            (true, 32) => Some(SampleFormat::Float32),
            (false, 16) => Some(SampleFormat::Int16),
            (false, 24) => Some(SampleFormat::Int24),
            (false, 32) => Some(SampleFormat::Int32),
            _ => None,
        }
    }

    /// How users read it: "WAV, 24-bit integer", "FLAC, 16-bit integer".
    pub fn describe(&self) -> String {
        let container = match self.container {
            Container::Wav => "WAV",
            Container::Flac => "FLAC",
        };
        let kind = if self.float { "float" } else { "integer" };
        format!("{container}, {}-bit {kind}", self.bits_per_sample)
    }
}

/// The WAV encodings written (the reader also takes 8-bit and 64-bit float).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleFormat {
    Int16,
    Int24,
    Int32,
    Float32,
}

impl SampleFormat {
    /// Bytes per sample in a WAV file.
    pub fn bytes(self) -> usize {
        match self {
            SampleFormat::Int16 => 2,
            SampleFormat::Int24 => 3,
            SampleFormat::Int32 | SampleFormat::Float32 => 4,
        }
    }

    /// Bits per sample.
    pub fn bits(self) -> u32 {
        8 * self.bytes() as u32
    }

    /// Reads a bit-depth option: `16`, `24`, `32` (integer) or `32f` (float; also `float`,
    /// `f32`).
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

    /// The same encoding as a [`Format`] of a WAV file.
    pub fn wav_format(self) -> Format {
        Format {
            container: Container::Wav,
            bits_per_sample: self.bits(),
            float: self == SampleFormat::Float32,
        }
    }
}
