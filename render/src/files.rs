//! The driver's [`Source`] and [`Sink`] for audio files: underscore-io's streaming
//! [`AudioReader`] (WAV or FLAC) and [`WavWriter`], with their errors as [`RenderError`]s.

use underscore_io::{AudioReader, WavWriter};

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
