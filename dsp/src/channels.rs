//! Where in the sound field the duck acts: per-channel and mid/side gains.
//!
//! The voice sits in the phantom centre (stereo) or the centre speaker (5.1); that is where the
//! bed masks it. Ducking the sides or the surrounds as hard only makes the mix smaller. So each
//! part of the field gets a *share* of the duck (in dB): in Mid/Side mode the mid takes all of it
//! and the side its share; in 5.1 the centre, fronts, surrounds and LFE each have their own.
//! Shares multiply the duck in dB, so 50 % of a -10 dB duck is -5 dB.

pub use crate::settings::StereoMode;
use crate::units::db_to_gain;

/// Most bed channels handled with individual gains (7.1 fits; more channels share group 0).
pub const MAX_CHANNELS: usize = 8;

/// Share of the duck, 0..=1, for each part of the sound field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FieldShares {
    pub stereo_mode: StereoMode,
    /// Side share in Mid/Side mode.
    pub side: f32,
    /// 5.1 front left/right.
    pub front: f32,
    /// 5.1 centre.
    pub centre: f32,
    /// 5.1 LFE.
    pub lfe: f32,
    /// 5.1 surrounds.
    pub surround: f32,
}

/// Linear gains of one tick, and how they map onto the bed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GainSet {
    /// Per-channel gains; in Mid/Side mode `[0]` is the mid gain, `[1]` the side gain.
    pub gains: [f32; MAX_CHANNELS],
}

/// Gains at both ends of one control tick, and where in the tick the next sample falls.
#[derive(Debug, Clone, Copy)]
pub struct TickRamp {
    pub from: GainSet,
    pub to: GainSet,
    /// Samples of the tick already processed.
    pub tick_pos: usize,
    pub tick_samples: usize,
}

/// Turns a duck (dB) into per-channel gains for a bed of a given channel count.
#[derive(Debug, Clone)]
pub struct FieldMap {
    channels: usize,
    shares: [f32; MAX_CHANNELS],
    mid_side: bool,
}

/// The gain finally applied for a duck of `duck_db` at `share`, with Mix, Output and Bypass.
#[inline]
pub fn mixed_gain(duck_db: f32, share: f32, mix: f32, output_gain: f32, bypass: f32) -> f32 {
    let duck = db_to_gain(duck_db * share);
    let wet = (1.0 + mix * (duck - 1.0)) * output_gain;
    wet + bypass * (1.0 - wet)
}

impl FieldMap {
    /// A map for `channels` bed channels (mono, stereo, 5.1 as L R C LFE Ls Rs; other counts
    /// duck every channel fully).
    pub fn new(channels: usize) -> Self {
        let mut m = Self {
            channels,
            shares: [1.0; MAX_CHANNELS],
            mid_side: false,
        };
        m.set_shares(&FieldShares {
            stereo_mode: StereoMode::Linked,
            side: 1.0,
            front: 1.0,
            centre: 1.0,
            lfe: 1.0,
            surround: 1.0,
        });
        m
    }

    /// Applies the shares for this bed's layout.
    pub fn set_shares(&mut self, s: &FieldShares) {
        self.mid_side = self.channels == 2 && s.stereo_mode == StereoMode::MidSide;
        self.shares = [1.0; MAX_CHANNELS];
        if self.mid_side {
            self.shares[1] = s.side;
        } else if self.channels == 6 {
            self.shares[..6]
                .copy_from_slice(&[s.front, s.front, s.centre, s.lfe, s.surround, s.surround]);
        }
    }

    /// Per-channel shares (in Mid/Side mode `[0]` is the mid, `[1]` the side).
    pub fn shares(&self) -> &[f32; MAX_CHANNELS] {
        &self.shares
    }

    /// Whether the stereo bed is ducked as mid and side.
    pub fn mid_side(&self) -> bool {
        self.mid_side
    }

    /// Gains for a duck of `duck_db` (<= 0).
    pub fn gains(&self, duck_db: f32, mix: f32, output_gain: f32, bypass: f32) -> GainSet {
        let mut gains = [1.0; MAX_CHANNELS];
        let used = if self.mid_side {
            2
        } else {
            self.channels.min(MAX_CHANNELS)
        };
        for (g, &share) in gains.iter_mut().zip(&self.shares).take(used) {
            *g = mixed_gain(duck_db, share, mix, output_gain, bypass);
        }
        GainSet { gains }
    }

    /// Multiplies `bed[..][start..start+len]` by gains interpolated across the tick `ramp`.
    pub fn apply<C: AsMut<[f32]>>(&self, bed: &mut [C], start: usize, len: usize, ramp: &TickRamp) {
        let (from, to, tick_pos) = (&ramp.from, &ramp.to, ramp.tick_pos);
        let inv = 1.0 / ramp.tick_samples as f32;
        if self.mid_side && bed.len() == 2 {
            // L' = a L + b R, R' = b L + a R with a = (gm + gs) / 2, b = (gm - gs) / 2.
            let coeff = |g: &GainSet| {
                (
                    0.5 * (g.gains[0] + g.gains[1]),
                    0.5 * (g.gains[0] - g.gains[1]),
                )
            };
            let (a0, b0) = coeff(from);
            let (a1, b1) = coeff(to);
            let (da, db) = ((a1 - a0) * inv, (b1 - b0) * inv);
            let mut k = tick_pos as f32;
            let (left, right) = bed.split_at_mut(1);
            for (l, r) in left[0].as_mut()[start..start + len]
                .iter_mut()
                .zip(&mut right[0].as_mut()[start..start + len])
            {
                k += 1.0;
                let (a, b) = (a0 + da * k, b0 + db * k);
                let (x, y) = (*l, *r);
                *l = a * x + b * y;
                *r = b * x + a * y;
            }
            return;
        }
        for (ch, samples) in bed.iter_mut().enumerate() {
            let c = ch.min(MAX_CHANNELS - 1);
            let (g0, g1) = (from.gains[c], to.gains[c]);
            let io = &mut samples.as_mut()[start..start + len];
            if g0 == g1 {
                // Steady gain (most of the time): a plain, vectorised scale, or nothing at unity.
                if g0 != 1.0 {
                    io.iter_mut().for_each(|x| *x *= g0);
                }
                continue;
            }
            // g = g0 + step * k with k an exact integer (not an accumulated sum), so the result
            // does not depend on where a host block boundary splits the tick.
            let step = (g1 - g0) * inv;
            for (i, x) in io.iter_mut().enumerate() {
                *x *= g0 + step * (tick_pos + i + 1) as f32;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::gain_to_db;

    fn shares(mode: StereoMode) -> FieldShares {
        FieldShares {
            stereo_mode: mode,
            side: 0.5,
            front: 0.7,
            centre: 1.0,
            lfe: 0.0,
            surround: 0.3,
        }
    }

    /// Applies the steady gains `g` to a 64-sample stereo block.
    fn apply_steady(m: &FieldMap, l: &mut [f32], r: &mut [f32], g: GainSet) {
        let ramp = TickRamp {
            from: g,
            to: g,
            tick_pos: 0,
            tick_samples: 64,
        };
        m.apply(&mut [l, r], 0, 64, &ramp);
    }

    #[test]
    fn mid_side_ducks_centre_fully_and_sides_by_their_share() {
        let mut m = FieldMap::new(2);
        m.set_shares(&shares(StereoMode::MidSide));
        let g = m.gains(-10.0, 1.0, 1.0, 0.0);
        // A centred source (L = R) and a side-only source (L = -R), steady gains.
        let mut l = vec![0.5; 64];
        let mut r = vec![0.5; 64];
        apply_steady(&m, &mut l, &mut r, g);
        assert!((gain_to_db(l[10] / 0.5) + 10.0).abs() < 1e-3);
        let mut l = vec![0.5; 64];
        let mut r = vec![-0.5; 64];
        apply_steady(&m, &mut l, &mut r, g);
        assert!((gain_to_db(l[10] / 0.5) + 5.0).abs() < 1e-3);
        assert!((gain_to_db(-r[10] / 0.5) + 5.0).abs() < 1e-3);
    }

    #[test]
    fn surround_groups_get_their_shares() {
        let mut m = FieldMap::new(6);
        m.set_shares(&shares(StereoMode::MidSide));
        let g = m.gains(-20.0, 1.0, 1.0, 0.0);
        let db: Vec<f32> = g.gains[..6].iter().map(|&x| gain_to_db(x)).collect();
        let want = [-14.0, -14.0, -20.0, 0.0, -6.0, -6.0];
        for (d, w) in db.iter().zip(want) {
            assert!((d - w).abs() < 1e-3, "{db:?}");
        }
    }

    #[test]
    fn bypass_and_mix_reach_unity() {
        let m = FieldMap::new(2);
        assert_eq!(m.gains(-20.0, 1.0, 1.0, 1.0).gains[0], 1.0);
        assert_eq!(m.gains(-20.0, 0.0, 1.0, 0.0).gains[1], 1.0);
    }

    #[test]
    fn gains_ramp_without_steps() {
        let m = FieldMap::new(1);
        let from = m.gains(0.0, 1.0, 1.0, 0.0);
        let to = m.gains(-6.0, 1.0, 1.0, 0.0);
        let mut x = vec![1.0; 16];
        m.apply(
            &mut [&mut x],
            0,
            8,
            &TickRamp {
                from,
                to,
                tick_pos: 0,
                tick_samples: 16,
            },
        );
        m.apply(
            &mut [&mut x],
            8,
            8,
            &TickRamp {
                from,
                to,
                tick_pos: 8,
                tick_samples: 16,
            },
        );
        assert!((x[15] - to.gains[0]).abs() < 1e-6);
        let steps: Vec<f32> = x.windows(2).map(|w| w[0] - w[1]).collect();
        assert!(steps.iter().all(|s| (s - steps[0]).abs() < 1e-6));
    }
}
