//! Linked buses (issue 15): the beds of one link group share one masking budget.
//!
//! What masks the voice is the *sum* of the beds under it (score, ambience, effects), so the
//! reduction a band needs is computed on the summed bed power and then shared out by priority:
//! the member that yields first (the score) takes reduction up to its own Depth before the next
//! one is touched, and the ambience, the subtle frame under the scene, is touched last.
//!
//! This module is the arithmetic only: per band, given each member's bed power, its floor (its
//! Depth as a power ratio) and the largest summed power the dialogue tolerates there (its
//! target), it returns each member's power gain. A single member reproduces the unlinked
//! engine's band reduction exactly (`10 log10(bed / target)`, capped at Depth; the engine's
//! relevance gates and smoothing across bands stay around it), so a group of one behaves as an
//! unlinked instance. No allocation: callers hand in fixed-size slices.

use crate::units::db_to_gain;

/// Most members a link group holds.
pub const MAX_MEMBERS: usize = 8;

/// What a linked bed is, which sets the order in which members yield.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Score and source music: yields first (music under dialogue is the usual first move).
    Music,
    /// Sound effects beds: yield after the music.
    Effects,
    /// Ambience and room tone: yields last (it frames the scene and masks little at its level).
    Ambience,
}

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

/// The largest summed bed power (linear) a band may keep so that the dialogue's power
/// `dialogue_power` stays `clarity_db` above it: the unlinked engine's target.
pub fn band_target(dialogue_power: f32, clarity_db: f32) -> f32 {
    dialogue_power * db_to_gain(-clarity_db) * db_to_gain(-clarity_db)
}

/// The power gain a member may go down to at `depth_db` (negative dB; 0 = never reduced).
pub fn depth_floor(depth_db: f32) -> f32 {
    let g = db_to_gain(depth_db.min(0.0));
    g * g
}

/// Shares the reduction one band needs among the members.
///
/// `powers[i]` is member `i`'s bed power in the band, `floors[i]` the lowest power gain it
/// accepts ([`depth_floor`]), `order` the member indices in yielding order (first yields
/// first), `target` the largest summed power the band may keep ([`band_target`]). Writes each
/// member's power gain (1 = untouched) into `gains`. While the summed power is over the target,
/// the first member in `order` is reduced, down to its floor, then the next; a target that the
/// floors cannot reach leaves the members at their floors. Members with no power are left at 1.
pub fn share_band_reduction(
    powers: &[f32],
    floors: &[f32],
    order: &[usize],
    target: f32,
    gains: &mut [f32],
) {
    gains.iter_mut().for_each(|g| *g = 1.0);
    let total: f32 = powers.iter().map(|p| p.max(0.0)).sum();
    let mut excess = total - target.max(0.0);
    for &i in order {
        if excess <= 0.0 {
            break;
        }
        let p = powers[i];
        if p.is_nan() || p <= 0.0 {
            continue;
        }
        let floor = floors[i].clamp(0.0, 1.0);
        let available = p * (1.0 - floor);
        let take = excess.min(available);
        gains[i] = (1.0 - take / p).max(floor);
        excess -= take;
    }
}

/// The yielding order of `roles` (member indices; equal roles keep their order).
pub fn yield_order(roles: &[Role], order: &mut [usize]) -> usize {
    let n = roles.len().min(order.len());
    for (i, o) in order.iter_mut().enumerate().take(n) {
        *o = i;
    }
    order[..n].sort_by_key(|&i| roles[i].yield_rank());
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::gain_to_db;

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
        let roles = [Role::Ambience, Role::Music];
        let mut order = [0; 2];
        assert_eq!(yield_order(&roles, &mut order), 2);
        assert_eq!(order, [1, 0]);
        let floors = [depth_floor(-10.0), depth_floor(-10.0)];
        // Music 1.0, ambience 0.2, target 0.5: the music alone can get the sum there.
        let mut g = [0.0; 2];
        share_band_reduction(&[0.2, 1.0], &floors, &order, 0.5, &mut g);
        assert_eq!(g[0], 1.0, "ambience untouched");
        assert!(
            (0.2 + 1.0 * g[1] - 0.5).abs() < 1e-6,
            "sum meets the target"
        );
        // Target 0.15: the music goes to its floor (-10 dB), the ambience takes the rest.
        share_band_reduction(&[0.2, 1.0], &floors, &order, 0.15, &mut g);
        assert!((power_db(g[1]) + 10.0).abs() < 1e-3);
        assert!((0.2 * g[0] + 1.0 * g[1] - 0.15).abs() < 1e-6);
        assert!(power_db(g[0]) < 0.0 && power_db(g[0]) > -10.0);
        // Unreachable: both at their floors.
        share_band_reduction(&[0.2, 1.0], &floors, &order, 0.01, &mut g);
        assert!((power_db(g[0]) + 10.0).abs() < 1e-3 && (power_db(g[1]) + 10.0).abs() < 1e-3);
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
}
