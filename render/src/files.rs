//! The driver's [`Source`] and [`Sink`] for audio files: underscore-io's streaming
//! [`AudioReader`] (WAV, RF64 or FLAC) and [`WavWriter`], with their errors as
//! [`RenderError`]s; and the outputs' metadata, carried over from the bed ([`create_output`]).

use std::path::Path;

use underscore_io::{AudioReader, Metadata, SampleFormat, WavOptions, WavWriter};

use crate::driver::{Sink, Source};
use crate::error::RenderError;

impl Source for AudioReader {
    fn channels(&self) -> usize {
        AudioReader::channels(self)
    }

    fn read(&mut self, out: &mut [Vec<f32>], frames: usize) -> Result<usize, RenderError> {
        Ok(AudioReader::read(self, out, frames)?)
    }
}

impl Sink for WavWriter {
    fn write(&mut self, channels: &[&[f32]]) -> Result<(), RenderError> {
        Ok(WavWriter::write(self, channels)?)
    }
}

/// The coding-history line (EBU R 98) of an Underscore render written as `format` at
/// `sample_rate_hz` with `channels` channels: `A=PCM,F=48000,W=32,M=stereo,T=Underscore
/// 0.2.0`.
pub fn coding_history_line(format: SampleFormat, sample_rate_hz: u32, channels: usize) -> String {
    let mode = match channels {
        1 => "mono".to_string(),
        2 => "stereo".to_string(),
        6 => "5.1".to_string(),
        n => format!("{n}ch"),
    };
    format!(
        "A=PCM,F={sample_rate_hz},W={},M={mode},T=Underscore {}",
        format.bits(),
        env!("CARGO_PKG_VERSION")
    )
}

/// What an output rendered from a bed carries: the bed's `bext` (time reference,
/// description, originator, reference, origination date and time, version) with one line
/// appended to its coding history for this render, its loudness fields marked "not set" (the
/// audio changed) and its UMID cleared (the output is new material); the bed's `iXML` bytes as
/// they are. A bed without `bext` gives an output without one (nothing to place it by).
pub fn output_metadata(
    bed: &Metadata,
    format: SampleFormat,
    sample_rate_hz: u32,
    channels: usize,
) -> Metadata {
    let bext = bed.bext.clone().map(|mut b| {
        b.append_coding_history(&coding_history_line(format, sample_rate_hz, channels));
        b.clear_loudness();
        b.umid = [0; 64];
        b
    });
    Metadata {
        bext,
        ixml: bed.ixml.clone(),
    }
}

/// Starts writing `path`, an output rendered from `bed`: same channels, `sample_rate_hz`,
/// `format`, with the bed's metadata ([`output_metadata`]); finished as RF64 if it passes
/// 4 GiB.
pub fn create_output(
    path: &Path,
    bed: &AudioReader,
    sample_rate_hz: u32,
    format: SampleFormat,
) -> Result<WavWriter, RenderError> {
    let options = WavOptions {
        metadata: output_metadata(bed.metadata(), format, sample_rate_hz, bed.channels()),
        ..WavOptions::default()
    };
    Ok(WavWriter::create_with(
        path,
        bed.channels(),
        sample_rate_hz,
        format,
        &options,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use underscore_io::{Bext, LOUDNESS_NOT_SET};

    #[test]
    fn outputs_keep_the_beds_place_and_names_and_add_one_history_line() {
        let bed = Metadata {
            bext: Some(Bext {
                description: "3M2 score".into(),
                originator: "Pro Tools".into(),
                time_reference_samples: 172_800_000,
                version: 2,
                umid: [7; 64],
                loudness_value: -2300,
                coding_history: "A=PCM,F=48000,W=24,M=stereo,T=Pro Tools\r\n".into(),
                ..Bext::default()
            }),
            ixml: Some(b"<BWFXML/>".to_vec()),
        };
        let out = output_metadata(&bed, SampleFormat::Float32, 48_000, 2);
        let b = out.bext.as_ref().unwrap();
        assert_eq!(out.time_reference_samples(), Some(172_800_000));
        assert_eq!(
            (b.description.as_str(), b.originator.as_str()),
            ("3M2 score", "Pro Tools")
        );
        assert_eq!(
            b.coding_history,
            format!(
                "A=PCM,F=48000,W=24,M=stereo,T=Pro Tools\r\nA=PCM,F=48000,W=32,M=stereo,\
                 T=Underscore {}\r\n",
                env!("CARGO_PKG_VERSION")
            )
        );
        assert_eq!((b.loudness_value, b.umid), (LOUDNESS_NOT_SET, [0; 64]));
        assert_eq!(out.ixml, bed.ixml);
        assert!(output_metadata(&Metadata::default(), SampleFormat::Int24, 48_000, 6).is_empty());
        assert_eq!(
            coding_history_line(SampleFormat::Int24, 96_000, 6),
            format!(
                "A=PCM,F=96000,W=24,M=5.1,T=Underscore {}",
                env!("CARGO_PKG_VERSION")
            )
        );
    }
}
