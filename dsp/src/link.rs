//! Linked buses (issue 15): the beds of one link group share one masking budget.
//!
//! What masks the voice is the *sum* of the beds under it (score, ambience, effects), so the
//! reduction a band needs is computed on the summed bed power and then shared out by priority:
//! the member that yields first (the score) takes reduction up to its own Depth before the next
//! one is touched, and the ambience, the subtle frame under the scene, is touched last.
//!
//! Two parts:
//! * **The arithmetic** ([`share_band_reduction`]): per band, given each member's bed power, its
//!   floor (its Depth as a power ratio) and the largest summed power the dialogue tolerates
//!   there (its target), each member's power gain. A single member reproduces the unlinked
//!   engine's band reduction exactly (`10 log10(bed / target)`, capped at Depth; the engine's
//!   relevance gates and smoothing across bands stay around it), so a group of one behaves as
//!   an unlinked instance.
//! * **The exchange** ([`LinkGroup`], [`LinkMember`]): each member publishes, per analysis frame
//!   of its bed, the bed's smoothed band powers, its floor and its yielding rank, into its own
//!   ring of fixed-size frames guarded by a seqlock (one writer, any number of readers, no lock,
//!   no allocation after the group is built). Frames are numbered by *bed time* (the input's
//!   sample position / hop), and a member publishes them from its undelayed input, while it
//!   decides about the same frame only when it leaves its lookahead delay: every other member
//!   has published frame `m` by then as long as it runs no more than the lookahead behind, so
//!   the decision is deterministic whatever order the host runs the instances in (and equal to
//!   a lockstep offline render). A member that publishes nothing for [`DROPOUT_MS`] (bypassed
//!   by the host, removed, transport stopped) is left out of the sum.
//!
//! Hosts that run each plugin in its own process (Bitwig's default sandboxing per plugin, for
//! one) give each instance its own registry: it then finds no other member and behaves as an
//! unlinked instance (see the crate README).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use crate::bands::MAX_BANDS;
use crate::seqlock::Seq;
use crate::units::db_to_gain;

/// Most members a link group holds.
pub const MAX_MEMBERS: usize = 8;
/// Link groups a host process offers (the Link parameter's 1..=8).
pub const GROUPS: usize = 8;
/// Frames each member keeps (a ring): the longest lookahead (100 ms, 10 hops at 48 kHz) plus the
/// largest host block a member may run ahead of another (8192 samples, 16 hops), with room.
pub const RING_FRAMES: usize = 64;
/// The least a later tier (effects, ambience) must lower the summed masker by to be cut where
/// the target is out of reach anyway, dB: about the smallest level change a listener notices
/// (the level JND is 0.5-1 dB), so cutting a bed for less spends an audible cut of the scene's
/// frame on no audible gain in clarity.
pub const MIN_HELP_DB: f32 = 1.0;
/// Control ticks each member keeps of its dialogue decisions (a ring): the follow lag plus the
/// largest host block, with room (256 ms at 1 ms ticks).
pub const TICK_RING: usize = 256;
/// How late a member without a key hears the group's dialogue, ms: the decisions of tick `t`
/// are read at tick `t` + this, so a member the host runs up to one 2048-frame block (43 ms at
/// 48 kHz) behind or ahead of the key owner still finds them. The follower's onsets land this
/// much later than the key owner's, inside the lookahead.
pub const FOLLOW_LAG_MS: f32 = 45.0;
/// A member whose newest frame is this much older than the frame asked for has stopped
/// processing (bypassed by the host, removed, transport stopped): it leaves the sum, ms.
pub const DROPOUT_MS: f32 = 100.0;

pub use crate::settings::Role;

impl Role {
    /// Position in the yielding order: lower yields first.
    pub fn yield_rank(self) -> u8 {
        match self {
            Role::Music => 0,
            Role::Effects => 1,
            Role::Ambience => 2,
        }
    }
}

/// The power gain a member may go down to at `depth_db` (negative dB; 0 = never reduced).
pub fn depth_floor(depth_db: f32) -> f32 {
    let g = db_to_gain(depth_db.min(0.0));
    g * g
}

/// Shares the reduction one band needs among the members.
///
/// `powers[i]` is member `i`'s bed power in the band, `floors[i]` the lowest power gain it
/// accepts ([`depth_floor`]), `ranks[i]` its [`Role::yield_rank`], `target` the largest summed
/// power the band may keep (the dialogue's band power less Clarity). Writes each member's power gain (1 = untouched)
/// into `gains`. While the summed power is over the target, the members of the lowest rank are
/// reduced, by one common gain, each down to its floor, then those of the next rank. Where the
/// target is out of reach, a later rank is cut (to its floor) only if that lowers the sum by
/// at least [`MIN_HELP_DB`]. Members of equal rank (two music beds) come down together, so no
/// instance order decides who yields. Members with no power are left at 1. Returns whether
/// the first role present met the target on its own (the others untouched).
pub fn share_band_reduction(
    powers: &[f32],
    floors: &[f32],
    ranks: &[u8],
    target: f32,
    gains: &mut [f32],
) -> bool {
    gains.iter_mut().for_each(|g| *g = 1.0);
    let power = |i: usize| if powers[i] > 0.0 { powers[i] } else { 0.0 };
    let total: f32 = (0..powers.len()).map(power).sum();
    let mut excess = total - target.max(0.0);
    // What rounding leaves over (a millionth of the sum, -60 dB) is not passed on.
    let negligible = total * 1e-6;
    // The first role present yields without condition.
    let first_rank = (0..powers.len())
        .filter(|&i| power(i) > 0.0)
        .map(|i| ranks[i])
        .min()
        .unwrap_or(0);
    let mut first_met = excess <= negligible;
    for rank in 0..=Role::Ambience.yield_rank() {
        if excess <= negligible {
            break;
        }
        let tier = || (0..powers.len()).filter(move |&i| ranks[i] == rank && power(i) > 0.0);
        // The common gain that would take the whole excess from this tier; members stop at
        // their floors, whatever they cannot take is left for the next tier (a floor at or
        // above the common gain stops that member; the others are not pushed further, which
        // keeps one gain per tier and can leave a little for the next tier).
        let tier_power: f32 = tier().map(power).sum();
        if tier_power <= 0.0 {
            continue;
        }
        // A later tier that cannot get the sum to the target is cut only where that lowers
        // the sum by at least MIN_HELP_DB: less buys no audible clarity for an audible cut of
        // the bed that frames the scene.
        let available: f32 = tier()
            .map(|i| power(i) * (1.0 - floors[i].clamp(0.0, 1.0)))
            .sum();
        let sum_now = target.max(0.0) + excess;
        if rank > first_rank
            && excess > available
            && available < sum_now * (1.0 - db_to_gain(-MIN_HELP_DB).powi(2))
        {
            continue;
        }
        let common = 1.0 - excess.min(tier_power) / tier_power;
        for i in tier() {
            let g = common.max(floors[i].clamp(0.0, 1.0));
            gains[i] = g;
            excess -= power(i) * (1.0 - g);
        }
        if rank == first_rank {
            first_met = excess <= negligible;
        }
    }
    first_met
}

/// One member's contribution to one analysis frame of the group.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkFrame {
    /// Bed time of the frame: its last input sample's position / hop, on the group's clock.
    pub index: u64,
    /// The member's smoothed bed power per band (linear, mean over its channels).
    pub bands: [f32; MAX_BANDS],
    /// The lowest power gain the member accepts ([`depth_floor`] of its Depth; 1 = never
    /// reduced, e.g. while bypassed: its bed still masks, the others take the reduction).
    pub floor: f32,
    /// [`Role::yield_rank`].
    pub rank: u8,
    /// Whether the frame is a Spectral member's (band powers) or a Broadband member's (its
    /// whole bed's power in band 0): members share only with members of their own mode.
    pub spectral: bool,
    /// Whether the member hears a dialogue on its own sidechain...
    pub has_key: bool,
    /// ...and that dialogue's long-term band powers (the spectrum Clarity is set against), for
    /// the members without a key.
    pub key_bands: [f32; MAX_BANDS],
}

impl Default for LinkFrame {
    fn default() -> Self {
        Self {
            index: 0,
            bands: [0.0; MAX_BANDS],
            floor: 1.0,
            rank: 0,
            spectral: true,
            has_key: false,
            key_bands: [0.0; MAX_BANDS],
        }
    }
}

/// One control tick of a member's dialogue decision, for the members without a key.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DialogueTick {
    /// The key counts as speech.
    pub speech: bool,
    /// The phrase in progress is provisional (see `speech::PROVISIONAL_FRAMES`).
    pub provisional: bool,
    /// A provisional phrase was withdrawn in this tick.
    pub withdrawn: bool,
    /// Time since the phrase's level onset, ms.
    pub since_onset_ms: f32,
    /// The voice detector's latest probability, 0..=1.
    pub probability: f32,
    /// Speech-band key power (linear).
    pub key_power: f32,
}

const TICK_WORDS: usize = 4;

impl DialogueTick {
    fn encode(&self) -> [u32; TICK_WORDS] {
        let flags =
            self.speech as u32 | (self.provisional as u32) << 1 | (self.withdrawn as u32) << 2;
        [
            flags,
            self.since_onset_ms.to_bits(),
            self.probability.to_bits(),
            self.key_power.to_bits(),
        ]
    }

    fn decode(w: &[u32; TICK_WORDS]) -> Self {
        Self {
            speech: w[0] & 1 == 1,
            provisional: w[0] & 2 == 2,
            withdrawn: w[0] & 4 == 4,
            since_onset_ms: f32::from_bits(w[1]),
            probability: f32::from_bits(w[2]),
            key_power: f32::from_bits(w[3]),
        }
    }
}

/// Words of a [`LinkFrame`] after its index: bands, floor, rank and key flag, key bands.
const FRAME_WORDS: usize = 2 * MAX_BANDS + 2;

impl LinkFrame {
    fn encode(&self, w: &mut [u32; FRAME_WORDS]) {
        for (w, b) in w.iter_mut().zip(&self.bands) {
            *w = b.to_bits();
        }
        w[MAX_BANDS] = self.floor.to_bits();
        w[MAX_BANDS + 1] =
            self.rank as u32 | (self.has_key as u32) << 8 | (self.spectral as u32) << 9;
        for (w, b) in w[MAX_BANDS + 2..].iter_mut().zip(&self.key_bands) {
            *w = b.to_bits();
        }
    }

    fn decode(&mut self, index: u64, w: &[u32; FRAME_WORDS]) {
        self.index = index;
        for (b, w) in self.bands.iter_mut().zip(w) {
            *b = f32::from_bits(*w);
        }
        self.floor = f32::from_bits(w[MAX_BANDS]);
        self.rank = (w[MAX_BANDS + 1] & 0xFF) as u8;
        self.has_key = w[MAX_BANDS + 1] & 0x100 != 0;
        self.spectral = w[MAX_BANDS + 1] & 0x200 != 0;
        for (b, w) in self.key_bands.iter_mut().zip(&w[MAX_BANDS + 2..]) {
            *b = f32::from_bits(*w);
        }
    }
}

/// One member slot of a group: claimed by one engine at a time.
struct MemberSlot {
    claimed: AtomicBool,
    /// Sample rate of the member, Hz as f32 bits (members at another rate are not summed).
    sample_rate: AtomicU32,
    /// Newest frame published, plus one (0: none since joining).
    newest: AtomicU64,
    frames: Box<[Seq<FRAME_WORDS>]>,
    /// The member's dialogue decisions per control tick ([`DialogueTick`]), while it has a key.
    ticks: Box<[Seq<TICK_WORDS>]>,
    /// What the member decided last ([`MemberStatus`]), for the group's editors.
    status: Seq<STATUS_WORDS>,
    /// The member's display name (the host's track name, UTF-8), written by its editor.
    name: Seq<NAME_WORDS>,
}

/// A link group: up to [`MAX_MEMBERS`] members exchanging [`LinkFrame`]s lock-free. Built once
/// (it allocates); joining, publishing, reading and leaving never allocate or block.
pub struct LinkGroup {
    members: [MemberSlot; MAX_MEMBERS],
}

impl Default for LinkGroup {
    fn default() -> Self {
        Self::new()
    }
}

impl LinkGroup {
    /// An empty group.
    pub fn new() -> Self {
        Self {
            members: std::array::from_fn(|_| MemberSlot {
                claimed: AtomicBool::new(false),
                sample_rate: AtomicU32::new(0),
                newest: AtomicU64::new(0),
                frames: (0..RING_FRAMES).map(|_| Seq::new()).collect(),
                ticks: (0..TICK_RING).map(|_| Seq::new()).collect(),
                status: Seq::new(),
                name: Seq::new(),
            }),
        }
    }

    /// Joins the group at `sample_rate_hz`: `None` when all [`MAX_MEMBERS`] slots are taken.
    /// A compare-and-swap on a preallocated slot: safe on any thread.
    pub fn join(self: &Arc<Self>, sample_rate_hz: f32) -> Option<LinkMember> {
        let slot = self.members.iter().position(|m| {
            m.claimed
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        })?;
        let m = &self.members[slot];
        m.newest.store(0, Ordering::Release);
        m.name.write(0, &[0; NAME_WORDS]);
        for t in m.ticks.iter() {
            t.write(u64::MAX, &[0; TICK_WORDS]);
        }
        m.status.write(u64::MAX, &[0; STATUS_WORDS]);
        m.sample_rate
            .store(sample_rate_hz.to_bits(), Ordering::Release);
        Some(LinkMember {
            group: Arc::clone(self),
            slot,
        })
    }

    /// Members now in the group.
    pub fn len(&self) -> usize {
        self.members
            .iter()
            .filter(|m| m.claimed.load(Ordering::Acquire))
            .count()
    }

    /// Whether slot `slot` holds a member.
    pub fn is_member(&self, slot: usize) -> bool {
        self.members
            .get(slot)
            .is_some_and(|m| m.claimed.load(Ordering::Acquire))
    }

    /// Sample rate of the member in `slot`, Hz.
    pub fn sample_rate_hz(&self, slot: usize) -> f32 {
        self.members.get(slot).map_or(0.0, |m| {
            f32::from_bits(m.sample_rate.load(Ordering::Acquire))
        })
    }

    /// The latest status of the member in `slot` (`false`: none yet, or not readable now).
    pub fn status(&self, slot: usize, out: &mut MemberStatus) -> bool {
        let Some(m) = self.members.get(slot) else {
            return false;
        };
        let mut words = [0u32; STATUS_WORDS];
        match m.status.read(None, &mut words) {
            Some(index) if index != u64::MAX => {
                out.decode(index, &words);
                true
            }
            _ => false,
        }
    }

    /// The display name of the member in `slot` (empty when its host gave none).
    pub fn name(&self, slot: usize) -> String {
        let Some(m) = self.members.get(slot) else {
            return String::new();
        };
        let mut words = [0u32; NAME_WORDS];
        let Some(len) = m.name.read(None, &mut words) else {
            return String::new();
        };
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        String::from_utf8_lossy(&bytes[..(len as usize).min(NAME_BYTES)]).into_owned()
    }

    /// Whether nobody is in the group.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a member found of the others for one frame.
#[derive(Debug, Clone, Copy)]
pub struct Peers {
    /// Frames found (the member's own first), `count` of them valid.
    pub frames: [LinkFrame; MAX_MEMBERS],
    pub count: usize,
    /// Members in the group at another sample rate (not summed; the editor says why).
    pub other_rate: usize,
    /// Members in the group that have stopped publishing (left out of the sum).
    pub stopped: usize,
    /// Members in the other mode (Broadband / Spectral): not summed.
    pub other_mode: usize,
    /// Whether this member's own frame was found (first in `frames`).
    pub own: bool,
}

impl Default for Peers {
    fn default() -> Self {
        Self {
            frames: [LinkFrame::default(); MAX_MEMBERS],
            count: 0,
            other_rate: 0,
            stopped: 0,
            other_mode: 0,
            own: false,
        }
    }
}

/// Longest member name kept, bytes.
pub const NAME_BYTES: usize = 32;
/// A name as atomic-sized words ([`encode_name`]).
pub const NAME_WORDS: usize = NAME_BYTES / 4;

/// `name` as its byte length and little-endian words, truncated to [`NAME_BYTES`] at a
/// character boundary: what [`LinkMember::set_name`] takes (so a caller can keep a name in
/// atomics and hand it over without allocating).
pub fn encode_name(name: &str) -> (usize, [u32; NAME_WORDS]) {
    let mut end = name.len().min(NAME_BYTES);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    let mut bytes = [0u8; NAME_BYTES];
    bytes[..end].copy_from_slice(&name.as_bytes()[..end]);
    let mut words = [0u32; NAME_WORDS];
    for (w, c) in words.iter_mut().zip(bytes.chunks(4)) {
        *w = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
    }
    (end, words)
}
/// Words of a [`MemberStatus`]: rank, flags, reduction, bands, then three values per band.
const STATUS_WORDS: usize = 4 + 3 * MAX_BANDS;

/// What a member decided in its latest frame, for the editors of the group: its role, its
/// share of the reduction, and per band what the group readout sums (the dialogue heard with
/// the frame, the bed before ducking, the reduction applied), as in
/// [`crate::spectral::BandAnalysis`] but linear powers (the audio thread takes no logarithm).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemberStatus {
    /// Frame index (bed time) of the decision.
    pub index: u64,
    pub rank: u8,
    /// Whether the dialogue heard with this frame was speech.
    pub speech: bool,
    /// Whether the frame was decided with other members (else the member found nobody).
    pub linked: bool,
    /// Reduction applied now, mean over the speech bands (500 Hz-4 kHz), dB (>= 0).
    pub reduction_db: f32,
    /// Valid bands.
    pub bands: usize,
    pub dialogue_power: [f32; MAX_BANDS],
    pub bed_power: [f32; MAX_BANDS],
    pub band_reduction_db: [f32; MAX_BANDS],
}

impl Default for MemberStatus {
    fn default() -> Self {
        Self {
            index: 0,
            rank: 0,
            speech: false,
            linked: false,
            reduction_db: 0.0,
            bands: 0,
            dialogue_power: [0.0; MAX_BANDS],
            bed_power: [0.0; MAX_BANDS],
            band_reduction_db: [0.0; MAX_BANDS],
        }
    }
}

impl MemberStatus {
    fn encode(&self, w: &mut [u32; STATUS_WORDS]) {
        w[0] = self.rank as u32;
        w[1] = self.speech as u32 | (self.linked as u32) << 1;
        w[2] = self.reduction_db.to_bits();
        w[3] = self.bands as u32;
        for b in 0..MAX_BANDS {
            w[4 + 3 * b] = self.dialogue_power[b].to_bits();
            w[5 + 3 * b] = self.bed_power[b].to_bits();
            w[6 + 3 * b] = self.band_reduction_db[b].to_bits();
        }
    }

    fn decode(&mut self, index: u64, w: &[u32; STATUS_WORDS]) {
        self.index = index;
        self.rank = w[0] as u8;
        self.speech = w[1] & 1 == 1;
        self.linked = w[1] & 2 == 2;
        self.reduction_db = f32::from_bits(w[2]);
        self.bands = (w[3] as usize).min(MAX_BANDS);
        for b in 0..MAX_BANDS {
            self.dialogue_power[b] = f32::from_bits(w[4 + 3 * b]);
            self.bed_power[b] = f32::from_bits(w[5 + 3 * b]);
            self.band_reduction_db[b] = f32::from_bits(w[6 + 3 * b]);
        }
    }

    /// As a band analysis (dB), for [`crate::spectral::SpeechBandRatio::add_group`];
    /// `centre_hz` from the reader's own analysis (every member has the same layout).
    pub fn to_band_analysis(&self, out: &mut crate::spectral::BandAnalysis) {
        use crate::units::power_to_db;
        out.bands = self.bands;
        out.speech = self.speech;
        for b in 0..self.bands {
            out.dialogue_frame_db[b] = power_to_db(self.dialogue_power[b]);
            out.bed_frame_db[b] = power_to_db(self.bed_power[b]);
            out.reduction_db[b] = self.band_reduction_db[b];
        }
    }
}

/// One engine's membership of a [`LinkGroup`]; leaving is dropping it.
pub struct LinkMember {
    group: Arc<LinkGroup>,
    slot: usize,
}

impl LinkMember {
    /// Publishes this member's frame.
    pub fn publish(&self, frame: &LinkFrame) {
        let m = &self.group.members[self.slot];
        let mut words = [0u32; FRAME_WORDS];
        frame.encode(&mut words);
        m.frames[(frame.index % RING_FRAMES as u64) as usize].write(frame.index, &words);
        m.newest.fetch_max(frame.index + 1, Ordering::AcqRel);
    }

    /// Sets this member's display name (from [`encode_name`]): the host's track name, shown by
    /// the group's editors. The member's audio thread is the one writer; no allocation.
    pub fn set_name(&self, len: usize, words: &[u32; NAME_WORDS]) {
        self.group.members[self.slot]
            .name
            .write(len.min(NAME_BYTES) as u64, words);
    }

    /// Publishes this member's dialogue decision of control tick `index` (group clock ticks),
    /// for the members without a key.
    pub fn publish_tick(&self, index: u64, tick: &DialogueTick) {
        self.group.members[self.slot].ticks[(index % TICK_RING as u64) as usize]
            .write(index, &tick.encode());
    }

    /// The dialogue decision of tick `index` from the first other member (by slot) that
    /// published one for it at this member's sample rate: the group's dialogue, for a member
    /// without a key, with that member's slot (the editor names whom it follows). `None` when
    /// nobody did (no key in the group, or not yet).
    pub fn group_tick(&self, index: u64) -> Option<(usize, DialogueTick)> {
        let rate = self.group.members[self.slot]
            .sample_rate
            .load(Ordering::Relaxed);
        let mut words = [0u32; TICK_WORDS];
        (0..MAX_MEMBERS)
            .filter(|&s| s != self.slot)
            .map(|s| (s, &self.group.members[s]))
            .filter(|(_, m)| {
                m.claimed.load(Ordering::Acquire) && m.sample_rate.load(Ordering::Acquire) == rate
            })
            .find_map(|(s, m)| {
                m.ticks[(index % TICK_RING as u64) as usize]
                    .read(Some(index), &mut words)
                    .map(|_| (s, DialogueTick::decode(&words)))
            })
    }

    /// Publishes what this member decided (for the group's editors).
    pub fn publish_status(&self, status: &MemberStatus) {
        let mut words = [0u32; STATUS_WORDS];
        status.encode(&mut words);
        self.group.members[self.slot]
            .status
            .write(status.index, &words);
    }

    /// Collects frame `index` of every member (this one first) into `out`. A member that has
    /// not published `index` yet but did within `dropout_frames` gives its newest frame (it
    /// runs behind by less than a block); one older than that, or at another sample rate, is
    /// left out and counted.
    pub fn gather(&self, index: u64, dropout_frames: u64, spectral: bool, out: &mut Peers) {
        out.count = 0;
        out.other_rate = 0;
        out.stopped = 0;
        out.other_mode = 0;
        out.own = false;
        let own = &self.group.members[self.slot];
        let order = std::iter::once(self.slot).chain((0..MAX_MEMBERS).filter(|&s| s != self.slot));
        for s in order {
            let m = &self.group.members[s];
            if !m.claimed.load(Ordering::Acquire) {
                continue;
            }
            if s != self.slot
                && m.sample_rate.load(Ordering::Acquire) != own.sample_rate.load(Ordering::Relaxed)
            {
                out.other_rate += 1;
                continue;
            }
            let newest = m.newest.load(Ordering::Acquire);
            if newest == 0 || newest + dropout_frames < index + 1 {
                out.stopped += usize::from(s != self.slot);
                continue;
            }
            let want = index.min(newest - 1);
            let f = &mut out.frames[out.count];
            let mut words = [0u32; FRAME_WORDS];
            let slot = &m.frames[(want % RING_FRAMES as u64) as usize];
            if slot.read(Some(want), &mut words).is_some() {
                f.decode(want, &words);
                if f.spectral != spectral {
                    // A member in the other mode (own: this member just switched).
                    if s == self.slot {
                        return;
                    }
                    out.other_mode += 1;
                    continue;
                }
                out.own |= s == self.slot;
                out.count += 1;
            } else if s == self.slot {
                // Without its own frame a member cannot take its share: nothing gathered.
                return;
            } else {
                out.stopped += 1;
            }
        }
    }

    /// The group's clock, samples: the end of the newest frame any other member published
    /// (`None` when nobody else runs), for a member joining a running group.
    pub fn group_position(&self, hop: usize) -> Option<u64> {
        let newest = (0..MAX_MEMBERS)
            .filter(|&s| s != self.slot)
            .map(|s| &self.group.members[s])
            .filter(|m| m.claimed.load(Ordering::Acquire))
            .map(|m| m.newest.load(Ordering::Acquire))
            .max()?;
        (newest > 0).then_some(newest * hop as u64)
    }

    /// The member's slot in its group (0..MAX_MEMBERS).
    pub fn slot(&self) -> usize {
        self.slot
    }
}

impl Drop for LinkMember {
    fn drop(&mut self) {
        let m = &self.group.members[self.slot];
        m.newest.store(0, Ordering::Release);
        m.claimed.store(false, Ordering::Release);
    }
}

/// The process-wide link groups, created on first use (allocates once; call it first from the
/// main thread, e.g. when a plugin activates).
pub fn registry() -> &'static [Arc<LinkGroup>; GROUPS] {
    static GROUPS_CELL: std::sync::OnceLock<[Arc<LinkGroup>; GROUPS]> = std::sync::OnceLock::new();
    GROUPS_CELL.get_or_init(|| std::array::from_fn(|_| Arc::new(LinkGroup::new())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::gain_to_db;

    /// The largest summed bed power (linear) a band may keep so that the dialogue's power
    /// `dialogue_power` stays `clarity_db` above it: the unlinked engine's target.
    fn band_target(dialogue_power: f32, clarity_db: f32) -> f32 {
        dialogue_power * db_to_gain(-clarity_db) * db_to_gain(-clarity_db)
    }

    fn power_db(g: f32) -> f32 {
        10.0 * g.log10()
    }

    #[test]
    fn one_member_reproduces_the_unlinked_band_reduction() {
        // Bed 12 dB over the target: 12 dB of reduction, unless Depth caps it.
        let target = band_target(1.0, 20.0);
        let bed = target * 10f32.powf(1.2);
        let mut g = [0.0];
        share_band_reduction(&[bed], &[depth_floor(-20.0)], &[0], target, &mut g);
        assert!((power_db(g[0]) + 12.0).abs() < 1e-3, "{}", power_db(g[0]));
        share_band_reduction(&[bed], &[depth_floor(-10.0)], &[0], target, &mut g);
        assert!((power_db(g[0]) + 10.0).abs() < 1e-3);
        // Under the target: untouched.
        share_band_reduction(&[target * 0.5], &[depth_floor(-10.0)], &[0], target, &mut g);
        assert_eq!(g[0], 1.0);
    }

    #[test]
    fn the_music_yields_first_and_the_ambience_only_when_the_music_is_at_its_depth() {
        let ranks = [Role::Ambience.yield_rank(), Role::Music.yield_rank()];
        let floors = [depth_floor(-10.0), depth_floor(-10.0)];
        // Music 1.0, ambience 0.2, target 0.5: the music alone can get the sum there.
        let mut g = [0.0; 2];
        share_band_reduction(&[0.2, 1.0], &floors, &ranks, 0.5, &mut g);
        assert_eq!(g[0], 1.0, "ambience untouched");
        assert!(
            (0.2 + 1.0 * g[1] - 0.5).abs() < 1e-6,
            "sum meets the target"
        );
        // Target 0.15: the music goes to its floor (-10 dB), the ambience takes the rest.
        share_band_reduction(&[0.2, 1.0], &floors, &ranks, 0.15, &mut g);
        assert!((power_db(g[1]) + 10.0).abs() < 1e-3);
        assert!((0.2 * g[0] + 1.0 * g[1] - 0.15).abs() < 1e-6);
        assert!(power_db(g[0]) < 0.0 && power_db(g[0]) > -10.0);
        // Unreachable: both at their floors.
        share_band_reduction(&[0.2, 1.0], &floors, &ranks, 0.01, &mut g);
        assert!((power_db(g[0]) + 10.0).abs() < 1e-3 && (power_db(g[1]) + 10.0).abs() < 1e-3);
    }

    #[test]
    fn members_of_one_role_come_down_together() {
        // Two music beds (1.0 and 0.5) and an ambience: the music beds share the excess by one
        // gain, whatever their order; the ambience is untouched.
        let floors = [depth_floor(-20.0); 3];
        let mut a = [0.0; 3];
        let mut b = [0.0; 3];
        share_band_reduction(&[1.0, 0.5, 0.3], &floors, &[0, 0, 2], 0.9, &mut a);
        share_band_reduction(&[0.5, 1.0, 0.3], &floors, &[0, 0, 2], 0.9, &mut b);
        assert_eq!(a[0], a[1]);
        assert_eq!((a[0], a[2]), (b[1], b[2]));
        assert_eq!(a[2], 1.0);
        assert!((1.5 * a[0] + 0.3 - 0.9).abs() < 1e-6);
    }

    #[test]
    fn silent_members_and_zero_depth_are_left_alone() {
        let mut g = [0.0; 3];
        let floors = [depth_floor(0.0), depth_floor(-20.0), depth_floor(-20.0)];
        // Member 0 may not duck (Depth 0), member 1 is silent: member 2 takes it all.
        share_band_reduction(&[1.0, 0.0, 1.0], &floors, &[0, 1, 2], 1.5, &mut g);
        assert_eq!(g[..2], [1.0, 1.0]);
        assert!((g[2] - 0.5).abs() < 1e-6, "{}", gain_to_db(g[2]));
    }

    fn frame(index: u64, level: f32) -> LinkFrame {
        LinkFrame {
            index,
            bands: [level; MAX_BANDS],
            floor: 0.1,
            ..Default::default()
        }
    }

    #[test]
    fn members_find_each_others_frames_and_stopped_members_drop_out() {
        let group = Arc::new(LinkGroup::new());
        let a = group.join(48_000.0).unwrap();
        let b = group.join(48_000.0).unwrap();
        let c = group.join(44_100.0).unwrap();
        assert_eq!(group.len(), 3);
        let mut peers = Peers::default();
        for i in 0..100 {
            a.publish(&frame(i, 1.0));
            if i < 50 {
                b.publish(&frame(i, 2.0));
            }
            c.publish(&frame(i, 3.0));
        }
        // Frame 45: both at 48 kHz, own first; the 44.1 kHz member is counted, not summed.
        a.gather(45, 9, true, &mut peers);
        assert_eq!((peers.count, peers.other_rate, peers.stopped), (2, 1, 0));
        assert_eq!(peers.frames[0].bands[0], 1.0);
        assert_eq!((peers.frames[1].index, peers.frames[1].bands[0]), (45, 2.0));
        // Frame 55: b's newest is 49, within the dropout: its newest frame stands in.
        a.gather(55, 9, true, &mut peers);
        assert_eq!((peers.count, peers.frames[1].index), (2, 49));
        // Frame 70: b stopped 20 frames ago: left out.
        a.gather(70, 9, true, &mut peers);
        assert_eq!((peers.count, peers.stopped), (1, 1));
        // Frames older than the ring are gone.
        b.gather(10, 9, true, &mut peers);
        assert_eq!(peers.frames[0].index, 10);
        a.gather(10, 9, true, &mut peers);
        assert_eq!(
            (peers.count, peers.own),
            (0, false),
            "a's frame 10 was overwritten by frame 74: nothing to share with"
        );
        drop(b);
        assert_eq!(group.len(), 2);
        let d = group.join(48_000.0).unwrap();
        assert_eq!(d.slot(), 1, "a freed slot is taken again");
    }

    #[test]
    fn readers_never_see_a_torn_frame() {
        // Stress test with free-running threads (no thread sanitizer on stable Rust): one
        // writer publishes frames whose words all equal the index; readers check each frame
        // they get is whole.
        let group = Arc::new(LinkGroup::new());
        let writer = group.join(48_000.0).unwrap();
        let reader = group.join(48_000.0).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let r = {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut peers = Peers::default();
                let mut seen = 0u64;
                // Far ahead of the writer: every gather reads the writer's newest frame,
                // which the writer is rewriting all the time.
                let k = u64::MAX / 4;
                reader.publish(&frame(k, 0.0));
                while !stop.load(Ordering::Relaxed) {
                    reader.gather(k, u64::MAX / 2, true, &mut peers);
                    for f in &peers.frames[1..peers.count] {
                        assert!(
                            f.bands.iter().all(|&x| x == f.index as f32),
                            "torn frame {f:?}"
                        );
                        seen += 1;
                    }
                }
                seen
            })
        };
        for i in 0..200_000u64 {
            writer.publish(&frame(i, i as f32));
        }
        stop.store(true, Ordering::Relaxed);
        let seen = r.join().unwrap();
        assert!(seen > 0, "the reader saw frames");
    }
}
