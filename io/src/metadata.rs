//! Broadcast WAV metadata: the `bext` chunk (EBU Tech 3285, versions 0 to 2) and the `iXML`
//! chunk, read from WAV/RF64 files and written by [`crate::WavWriter`], so a stem keeps its
//! time reference (its place on the timeline), description, originator and history.
//!
//! The `bext` text fields are fixed-size byte fields padded with NULs; they are read and
//! written one byte per character (ISO-8859-1, of which the ASCII the standard asks for is a
//! subset), so every field comes back byte for byte. `iXML` is kept as the bytes of the chunk.

/// Bytes of the `bext` chunk before the coding history.
pub const BEXT_FIXED_BYTES: usize = 602;
/// Size of each fixed text field of `bext`, bytes.
pub const DESCRIPTION_BYTES: usize = 256;
pub const ORIGINATOR_BYTES: usize = 32;
pub const ORIGINATOR_REFERENCE_BYTES: usize = 32;
pub const ORIGINATION_DATE_BYTES: usize = 10;
pub const ORIGINATION_TIME_BYTES: usize = 8;
/// A loudness field of a version 2 `bext` that is not set (EBU Tech 3285 v2).
pub const LOUDNESS_NOT_SET: i16 = 0x7FFF;

/// Metadata carried by an audio file (BWF chunks); empty for FLAC and plain WAV files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// The Broadcast Wave Format extension chunk, if the file has one.
    pub bext: Option<Bext>,
    /// The `iXML` chunk's bytes as found (without the pad byte of an odd-sized chunk).
    pub ixml: Option<Vec<u8>>,
}

impl Metadata {
    /// The `bext` time reference: the file's first sample as a count of samples since
    /// midnight, at the file's sample rate (172 800 000 = 01:00:00:00 at 48 kHz).
    pub fn time_reference_samples(&self) -> Option<u64> {
        self.bext.as_ref().map(|b| b.time_reference_samples)
    }

    /// No chunk to carry.
    pub fn is_empty(&self) -> bool {
        self.bext.is_none() && self.ixml.is_none()
    }
}

/// The `bext` chunk (EBU Tech 3285). Text fields longer than their field are cut when
/// written (see the `*_BYTES` constants); characters beyond U+00FF are written as `?`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bext {
    /// Free description of the sound sequence (256 bytes).
    pub description: String,
    /// Name of the originator, e.g. the recorder or the facility (32 bytes).
    pub originator: String,
    /// The originator's unique reference (32 bytes).
    pub originator_reference: String,
    /// `yyyy-mm-dd` (10 bytes).
    pub origination_date: String,
    /// `hh:mm:ss` (8 bytes).
    pub origination_time: String,
    /// First sample of the file as a count of samples since midnight.
    pub time_reference_samples: u64,
    /// BWF version: 0, 1 (UMID) or 2 (loudness fields).
    pub version: u16,
    /// SMPTE UMID (version >= 1), 64 bytes; zeros when absent.
    pub umid: [u8; 64],
    /// Integrated loudness, LUFS x 100 (version 2; [`LOUDNESS_NOT_SET`] or 0 when unset).
    pub loudness_value: i16,
    /// Loudness range, LU x 100 (version 2).
    pub loudness_range: i16,
    /// Maximum true peak, dBTP x 100 (version 2).
    pub max_true_peak_level: i16,
    /// Highest momentary loudness, LUFS x 100 (version 2).
    pub max_momentary_loudness: i16,
    /// Highest short-term loudness, LUFS x 100 (version 2).
    pub max_short_term_loudness: i16,
    /// Coding history (EBU R 98): one line per process the audio went through, each ending
    /// with CR LF.
    pub coding_history: String,
}

impl Default for Bext {
    fn default() -> Self {
        Self {
            description: String::new(),
            originator: String::new(),
            originator_reference: String::new(),
            origination_date: String::new(),
            origination_time: String::new(),
            time_reference_samples: 0,
            version: 1,
            umid: [0; 64],
            loudness_value: 0,
            loudness_range: 0,
            max_true_peak_level: 0,
            max_momentary_loudness: 0,
            max_short_term_loudness: 0,
            coding_history: String::new(),
        }
    }
}

/// ISO-8859-1 text of `bytes` up to the first NUL.
fn text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    bytes[..end].iter().map(|&b| b as char).collect()
}

/// `s` as ISO-8859-1 bytes (`?` for characters beyond U+00FF).
fn latin1(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect()
}

/// Appends `s` to `out` as a field of `n` bytes: cut or NUL-padded.
fn put_field(out: &mut Vec<u8>, s: &str, n: usize) {
    let mut bytes = latin1(s);
    bytes.resize(n, 0);
    out.extend_from_slice(&bytes);
}

impl Bext {
    /// Parses the contents of a `bext` chunk (without its 8-byte header).
    pub fn parse(chunk: &[u8]) -> Result<Self, String> {
        if chunk.len() < BEXT_FIXED_BYTES {
            return Err(format!(
                "corrupt bext chunk: {} bytes, at least {BEXT_FIXED_BYTES} expected",
                chunk.len()
            ));
        }
        let u16_at = |o: usize| u16::from_le_bytes([chunk[o], chunk[o + 1]]);
        let i16_at = |o: usize| i16::from_le_bytes([chunk[o], chunk[o + 1]]);
        let low = u32::from_le_bytes(chunk[338..342].try_into().expect("4 bytes"));
        let high = u32::from_le_bytes(chunk[342..346].try_into().expect("4 bytes"));
        let mut umid = [0u8; 64];
        umid.copy_from_slice(&chunk[348..412]);
        Ok(Self {
            description: text(&chunk[0..256]),
            originator: text(&chunk[256..288]),
            originator_reference: text(&chunk[288..320]),
            origination_date: text(&chunk[320..330]),
            origination_time: text(&chunk[330..338]),
            time_reference_samples: (u64::from(high) << 32) | u64::from(low),
            version: u16_at(346),
            umid,
            loudness_value: i16_at(412),
            loudness_range: i16_at(414),
            max_true_peak_level: i16_at(416),
            max_momentary_loudness: i16_at(418),
            max_short_term_loudness: i16_at(420),
            // 180 reserved bytes from 422, then the history to the end of the chunk.
            coding_history: text(&chunk[BEXT_FIXED_BYTES..]),
        })
    }

    /// The contents of the `bext` chunk (without its header; possibly of odd length).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(BEXT_FIXED_BYTES + self.coding_history.len());
        put_field(&mut out, &self.description, DESCRIPTION_BYTES);
        put_field(&mut out, &self.originator, ORIGINATOR_BYTES);
        put_field(
            &mut out,
            &self.originator_reference,
            ORIGINATOR_REFERENCE_BYTES,
        );
        put_field(&mut out, &self.origination_date, ORIGINATION_DATE_BYTES);
        put_field(&mut out, &self.origination_time, ORIGINATION_TIME_BYTES);
        out.extend_from_slice(&(self.time_reference_samples as u32).to_le_bytes());
        out.extend_from_slice(&((self.time_reference_samples >> 32) as u32).to_le_bytes());
        out.extend_from_slice(&self.version.to_le_bytes());
        out.extend_from_slice(&self.umid);
        for v in [
            self.loudness_value,
            self.loudness_range,
            self.max_true_peak_level,
            self.max_momentary_loudness,
            self.max_short_term_loudness,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.resize(BEXT_FIXED_BYTES, 0);
        out.extend_from_slice(&latin1(&self.coding_history));
        out
    }

    /// Appends one coding-history line (EBU R 98, e.g. `A=PCM,F=48000,W=24,M=stereo,T=...`),
    /// ending the previous history with CR LF first if it does not.
    pub fn append_coding_history(&mut self, line: &str) {
        if !self.coding_history.is_empty() && !self.coding_history.ends_with("\r\n") {
            if self.coding_history.ends_with('\n') {
                self.coding_history.pop();
            }
            self.coding_history.push_str("\r\n");
        }
        self.coding_history
            .push_str(line.trim_end_matches(['\r', '\n']));
        self.coding_history.push_str("\r\n");
    }

    /// Marks the loudness fields as not measured (the audio changed since they were): 0x7FFF
    /// in a version 2 chunk, 0 (reserved) before.
    pub fn clear_loudness(&mut self) {
        let v = if self.version >= 2 {
            LOUDNESS_NOT_SET
        } else {
            0
        };
        self.loudness_value = v;
        self.loudness_range = v;
        self.max_true_peak_level = v;
        self.max_momentary_loudness = v;
        self.max_short_term_loudness = v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Bext {
        Bext {
            description: "Reel 3, cue 12: score under the kitchen scene".into(),
            originator: "Pro Tools".into(),
            originator_reference: "USPTX0000000000000000000000001".into(),
            origination_date: "2026-11-30".into(),
            origination_time: "05:43:26".into(),
            time_reference_samples: 0x1_2345_6789,
            version: 2,
            umid: std::array::from_fn(|i| i as u8),
            loudness_value: -2300,
            loudness_range: 850,
            max_true_peak_level: -100,
            max_momentary_loudness: -1500,
            max_short_term_loudness: -1800,
            coding_history: "A=PCM,F=48000,W=24,M=stereo,T=original\r\n".into(),
        }
    }

    #[test]
    fn fields_sit_where_the_standard_puts_them_and_parse_back() {
        let b = sample();
        let bytes = b.to_bytes();
        assert_eq!(bytes.len(), 602 + b.coding_history.len());
        assert_eq!(b.coding_history.len(), 40);
        assert_eq!(&bytes[..9], b"Reel 3, c");
        assert_eq!(bytes[b.description.len()], 0);
        assert_eq!(&bytes[256..265], b"Pro Tools");
        assert_eq!(&bytes[320..330], b"2026-11-30");
        assert_eq!(&bytes[330..338], b"05:43:26");
        assert_eq!(&bytes[338..346], &[0x89, 0x67, 0x45, 0x23, 1, 0, 0, 0]);
        assert_eq!(&bytes[346..348], &[2, 0]);
        assert_eq!(bytes[348 + 63], 63);
        assert_eq!(&bytes[412..414], &(-2300i16).to_le_bytes());
        assert!(bytes[422..602].iter().all(|&x| x == 0));
        assert_eq!(Bext::parse(&bytes).unwrap(), b);
        // Every byte value of a text field comes back (ISO-8859-1 one to one).
        let all: String = (1..=255u8).map(char::from).collect();
        let odd = Bext {
            description: all.clone(),
            ..Bext::default()
        };
        assert_eq!(&odd.to_bytes()[..255], &(1..=255u8).collect::<Vec<_>>()[..]);
        assert_eq!(Bext::parse(&odd.to_bytes()).unwrap().description, all);
        assert!(
            Bext::parse(&bytes[..601])
                .unwrap_err()
                .contains("601 bytes")
        );
    }

    #[test]
    fn long_fields_are_cut_and_history_lines_end_with_crlf() {
        let mut b = Bext {
            originator: "x".repeat(40),
            coding_history: "A=PCM,F=48000\n".into(),
            ..Bext::default()
        };
        let back = Bext::parse(&b.to_bytes()).unwrap();
        assert_eq!(back.originator, "x".repeat(32));
        b.append_coding_history("A=PCM,F=48000,W=32,M=mono,T=Underscore");
        assert_eq!(
            b.coding_history,
            "A=PCM,F=48000\r\nA=PCM,F=48000,W=32,M=mono,T=Underscore\r\n"
        );
        b.version = 2;
        b.loudness_value = -2300;
        b.clear_loudness();
        assert_eq!(b.loudness_value, LOUDNESS_NOT_SET);
        assert_eq!(b.max_short_term_loudness, LOUDNESS_NOT_SET);
    }
}
