//! Linked buses (issue 15) through the CLAP ABI: several Underscore instances in one process,
//! in one Link group, share one masking budget.
//!
//! * Two and three linked instances, each with its own host block sizes, give exactly the
//!   samples of the linked offline render (`underscore render --bed .. --role .. -o ..` per
//!   bed) of the same beds and dialogue.
//! * Members added and removed while processing, and a member bypassed: the others take over
//!   its share (figures in dB).
//! * Two instances on two threads, free-running with random block sizes (a stress test of the
//!   lock-free exchange: the decision then depends on timing, so it is checked against bounds,
//!   not exactly).
//!
//! Each test uses its own Link group: the tests of this binary run in parallel threads and
//! share the plugin library, and with it the process-wide registry.

use underscore_dsp::settings::Role;
use underscore_tests::*;

const SR: u32 = 48_000;

/// The CLAP value of choice `index` for the parameter `info`: nice-plug exposes a choice as its
/// steps (`min..=max`, one per choice), a number as 0..1.
fn choice_value(info: &ParamInfo, index: usize, choices: usize) -> f64 {
    info.min + (info.max - info.min) * index as f64 / (choices - 1) as f64
}

/// Dialogue in phrases of 1.2 s with 0.6 s gaps (stereo).
fn dialogue(n: usize) -> Vec<Vec<f32>> {
    let v: Vec<f32> = speech(SR as f64, n)
        .into_iter()
        .enumerate()
        .map(|(i, x)| if (i % 86_400) < 57_600 { x } else { 0.0 })
        .collect();
    vec![v.clone(), v]
}

/// A music-like bed: tones across the speech band plus noise, `gain` times the reference
/// level.
fn music_at(n: usize, gain: f64) -> Vec<Vec<f32>> {
    let sr = SR as f64;
    let parts = [
        sine(440.0, 0.25 * gain, sr, n),
        sine(1_100.0, 0.15 * gain, sr, n),
        sine(2_300.0, 0.08 * gain, sr, n),
        noise(0.03 * gain, n, 11),
    ];
    let m: Vec<f32> = (0..n).map(|i| parts.iter().map(|p| p[i]).sum()).collect();
    vec![m.clone(), m]
}

/// The music at its reference level.
fn music(n: usize) -> Vec<Vec<f32>> {
    music_at(n, 1.0)
}

/// An ambience-like bed in the music's bands (a room's hum and murmur, as tones beside the
/// music's), `amp` each, plus a little noise (`seed`).
fn ambience_at(n: usize, seed: u64, amp: f64) -> Vec<Vec<f32>> {
    let sr = SR as f64;
    let parts = [
        sine(470.0, amp, sr, n),
        sine(1_170.0, amp, sr, n),
        sine(2_450.0, amp, sr, n),
        noise(0.05 * amp, n, seed),
    ];
    let a: Vec<f32> = (0..n).map(|i| parts.iter().map(|p| p[i]).sum()).collect();
    vec![a.clone(), a]
}

fn ambience(n: usize, seed: u64) -> Vec<Vec<f32>> {
    ambience_at(n, seed, 0.03)
}

/// An instance in Spectral mode, in Link group `group` (1..=8) with `role`, activated.
fn member(group: usize, role: Role, max_block: u32) -> ClapInstance {
    member_in(group, role, max_block, true)
}

/// An instance in Spectral (`spectral`) or Broadband mode, in Link group `group` with `role`.
fn member_in(group: usize, role: Role, max_block: u32, spectral: bool) -> ClapInstance {
    pin_library();
    let mut p = ClapInstance::new(bundle_path(), None).unwrap_or_else(|e| {
        panic!("{e}\n(build the bundle with `cargo xtask bundle underscore --release`)")
    });
    let mut info = |name: &str| p.require_param(name).unwrap();
    let (mode, link, role_id) = (info("Mode"), info("Link"), info("Role"));
    p.set_params_inactive(&[
        (mode.id, choice_value(&mode, spectral as usize, 2)),
        (link.id, choice_value(&link, group, 9)),
        (
            role_id.id,
            choice_value(&role_id, role.yield_rank() as usize, 3),
        ),
    ])
    .unwrap();
    p.activate(SR as f64, 1, max_block).unwrap();
    if p.restart_requested() {
        p.restart().unwrap();
    }
    p
}

/// Runs `members` over their beds (all `total` long) keyed by `key`, each in its own block
/// sizes (`sizes[i]` cycled), always advancing the member that is furthest behind (a host
/// runs every instance once per cycle; this keeps them within one block of each other).
fn run_linked(
    members: &mut [ClapInstance],
    beds: &[Vec<Vec<f32>>],
    key: &[Vec<f32>],
    sizes: &[&[usize]],
) -> Vec<Vec<Vec<f32>>> {
    let total = key[0].len();
    let mut pos = vec![0usize; members.len()];
    let mut step = vec![0usize; members.len()];
    let mut outs: Vec<Vec<Vec<f32>>> = beds
        .iter()
        .map(|b| vec![Vec::with_capacity(total); b.len()])
        .collect();
    while let Some(i) = (0..members.len())
        .filter(|&i| pos[i] < total)
        .min_by_key(|&i| pos[i])
    {
        let n = sizes[i][step[i] % sizes[i].len()].min(total - pos[i]);
        step[i] += 1;
        let (a, b) = (pos[i], pos[i] + n);
        let main: Vec<Vec<f32>> = beds[i].iter().map(|c| c[a..b].to_vec()).collect();
        let aux: Vec<Vec<f32>> = key.iter().map(|c| c[a..b].to_vec()).collect();
        let out = members[i].process(&main, &aux, &[]).unwrap();
        for (o, c) in outs[i].iter_mut().zip(out) {
            o.extend_from_slice(&c);
        }
        pos[i] = b;
    }
    outs
}

/// The linked offline render of `beds` (with `roles`) under `key`: outputs aligned with the
/// input.
fn cli_linked(
    beds: &[Vec<Vec<f32>>],
    roles: &[Role],
    key: &[Vec<f32>],
    tag: &str,
    spectral: bool,
) -> Vec<Vec<Vec<f32>>> {
    let dir = std::env::temp_dir().join(format!("underscore-linked-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dx = dir.join("dx.wav");
    audio_io::write_wav(&dx, SR, key).unwrap();
    let files: Vec<_> = (0..beds.len())
        .map(|i| {
            (
                dir.join(format!("bed{i}.wav")),
                dir.join(format!("out{i}.wav")),
            )
        })
        .collect();
    for (bed, (path, _)) in beds.iter().zip(&files) {
        audio_io::write_wav(path, SR, bed).unwrap();
    }
    let spec: Vec<_> = files
        .iter()
        .zip(roles)
        .map(|((b, o), r)| (b.as_path(), o.as_path(), *r))
        .collect();
    let mut args = underscore_render::RenderArgs::linked(&dx, &spec);
    args.set = vec![
        if spectral {
            "mode=spectral"
        } else {
            "mode=broadband"
        }
        .into(),
    ];
    args.block = 256;
    let report = underscore_render::run::run_group(&args).unwrap();
    assert_eq!(report.linked, beds.len() > 1);
    let outs = files
        .iter()
        .map(|(_, o)| audio_io::read_audio(o).unwrap().channels)
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    outs
}

/// Mean gain of `out` (plugin output, `latency` late) against `bed` over the sample range
/// `r` of the input, dB.
fn gain_db(out: &[Vec<f32>], bed: &[Vec<f32>], r: std::ops::Range<usize>, latency: usize) -> f64 {
    rms_db(&out[0][r.start + latency..r.end + latency]) - rms_db(&bed[0][r])
}

fn assert_equal_to_the_render(group: usize, roles: &[Role], sizes: &[&[usize]], spectral: bool) {
    let n = 6 * SR as usize + 77;
    let key = dialogue(n);
    let mut beds = vec![music(n), ambience(n, 21)];
    if roles.len() == 3 {
        beds.insert(
            1,
            ambience(n, 31)
                .into_iter()
                .map(|c| c.iter().map(|x| 2.0 * x).collect())
                .collect(),
        );
    }
    beds.truncate(roles.len());
    let mut members: Vec<ClapInstance> = roles
        .iter()
        .map(|&r| member_in(group, r, 2_048, spectral))
        .collect();
    let latency = members[0].latency() as usize;
    let padded_beds: Vec<_> = beds.iter().map(|b| with_silence(b, latency)).collect();
    let plugin = run_linked(
        &mut members,
        &padded_beds,
        &with_silence(&key, latency),
        sizes,
    );
    let cli = cli_linked(&beds, roles, &key, &format!("g{group}"), spectral);
    for (i, (c, p)) in cli.iter().zip(&plugin).enumerate() {
        let mut max_diff = 0.0f32;
        let mut first = None;
        for (cc, pc) in c.iter().zip(p) {
            for (j, (a, b)) in cc.iter().zip(&pc[latency..]).enumerate() {
                let d = (a - b).abs();
                if d > 0.0 && first.is_none() {
                    first = Some(j);
                }
                max_diff = max_diff.max(d);
            }
        }
        let speech = 2 * SR as usize..(2.9 * SR as f64) as usize;
        println!(
            "group {group}, member {i} ({:?}): max |render - plugin| = {max_diff}, gain during \
             speech {:+.2} dB",
            roles[i],
            gain_db(&p[..], &beds[i], speech, latency)
        );
        assert_eq!(
            max_diff, 0.0,
            "member {i}: first difference at sample {first:?}"
        );
    }
}

#[test]
fn two_linked_instances_equal_the_linked_render() {
    assert_equal_to_the_render(
        1,
        &[Role::Music, Role::Ambience],
        &[&[512, 100, 1_024, 7, 333], &[256]],
        true,
    );
}

#[test]
fn two_linked_broadband_instances_equal_the_linked_render() {
    assert_equal_to_the_render(
        7,
        &[Role::Music, Role::Ambience],
        &[&[256], &[512, 100, 1_024, 7, 333]],
        false,
    );
}

#[test]
fn three_linked_instances_equal_the_linked_render() {
    assert_equal_to_the_render(
        2,
        &[Role::Music, Role::Effects, Role::Ambience],
        &[&[64], &[1_000, 24], &[2_048, 480]],
        true,
    );
}

/// Reduction of member `i` over one second of speech starting at `at_s`, dB (positive).
fn reduction_db(
    out: &[Vec<Vec<f32>>],
    beds: &[Vec<Vec<f32>>],
    i: usize,
    at_s: f64,
    latency: usize,
) -> f64 {
    // Phrases run 1.2 s of every 1.8 s: measure the middle second of one.
    let a = (at_s * SR as f64) as usize;
    -gain_db(&out[i], &beds[i], a..a + SR as usize / 2, latency)
}

/// Levels where the music alone can meet the target (Clarity 25 dB at Depth -10 dB) under
/// the test dialogue: the music is 5-6 dB over it, the ambience under it.
const QUIET_MUSIC: f64 = 0.03;
const QUIET_AMBIENCE: f64 = 0.0007;

#[test]
fn members_added_removed_and_bypassed_while_processing() {
    // Where the music alone can meet the target, linked, the music takes the cut and the
    // ambience loses at least 3 dB less; the music leaving (removed) leaves the ambience as it
    // is alone; a bypassed music bed passes uncut and the ambience takes more.
    let group = 3;
    let phrase = 1.8;
    let n = (14.0 * phrase * SR as f64) as usize;
    let key = dialogue(n);
    let beds = vec![ambience_at(n, 41, QUIET_AMBIENCE), music_at(n, QUIET_MUSIC)];
    let mut amb = member(group, Role::Ambience, 512);
    let latency = amb.latency() as usize;
    let mut outs = vec![vec![Vec::new(), Vec::new()], vec![Vec::new(), Vec::new()]];
    let mut music_member: Option<ClapInstance> = None;
    let mut bypass = None;
    // Phrase k starts at k x 1.8 s. The music joins before phrase 3, leaves before phrase 6,
    // joins again before phrase 9 and is bypassed (its Bypass parameter) from phrase 12.
    let block = 480;
    let mut pos = 0;
    while pos < n {
        let t = pos as f64 / SR as f64;
        let phase = (t / phrase).floor() as usize;
        let want_music = (3..6).contains(&phase) || phase >= 9;
        if want_music && music_member.is_none() {
            let mut m = member(group, Role::Music, 512);
            bypass = Some(m.require_param("Bypass").unwrap());
            music_member = Some(m);
        } else if !want_music && music_member.is_some() {
            music_member = None; // deactivated and destroyed: it leaves the group
        }
        let len = block.min(n - pos);
        if let Some(m) = music_member.as_mut() {
            let mut events = Vec::new();
            if phase >= 12 {
                let b = bypass.as_ref().unwrap();
                events.push(ParamEvent::new(0, b.id, b.max));
            }
            let main: Vec<Vec<f32>> = beds[1].iter().map(|c| c[pos..pos + len].to_vec()).collect();
            let aux: Vec<Vec<f32>> = key.iter().map(|c| c[pos..pos + len].to_vec()).collect();
            let out = m.process(&main, &aux, &events).unwrap();
            for (o, c) in outs[1].iter_mut().zip(out) {
                o.extend_from_slice(&c);
            }
        } else {
            for o in outs[1].iter_mut() {
                o.extend(std::iter::repeat_n(0.0, len));
            }
        }
        let main: Vec<Vec<f32>> = beds[0].iter().map(|c| c[pos..pos + len].to_vec()).collect();
        let aux: Vec<Vec<f32>> = key.iter().map(|c| c[pos..pos + len].to_vec()).collect();
        let out = amb.process(&main, &aux, &[]).unwrap();
        assert!(all_finite(&out));
        for (o, c) in outs[0].iter_mut().zip(out) {
            o.extend_from_slice(&c);
        }
        pos += len;
    }
    // Cuts in the last phrase of each stretch (the first ones settle).
    let at = |k: usize| k as f64 * phrase + 0.4;
    let amb_cut = |k| reduction_db(&outs, &beds, 0, at(k), latency);
    // The music member's output is late by its latency from its first block, as the
    // ambience's is, so the same alignment holds once it has run one latency.
    let music_cut = |k| reduction_db(&outs, &beds, 1, at(k), latency);
    let (alone, with_music, removed, again, bypassed) =
        (amb_cut(2), amb_cut(5), amb_cut(8), amb_cut(11), amb_cut(13));
    let (music5, music11, music13) = (music_cut(5), music_cut(11), music_cut(13));
    println!(
        "ambience cut, dB: alone {alone:.2}, music linked {with_music:.2} (music {music5:.2}), \
         music removed {removed:.2}, music back {again:.2} (music {music11:.2}), music \
         bypassed {bypassed:.2} (music {music13:.2})"
    );
    assert!(
        music5 - with_music >= 3.0,
        "linked: the ambience loses 3 dB less than the music"
    );
    assert!(music11 - again >= 3.0, "re-added: the same again");
    assert!(
        (removed - alone).abs() < 0.5,
        "removed: the ambience as it is alone"
    );
    // Bypassed, the music passes uncut but still masks: the ambience takes more of the cut,
    // in the bands where cutting it lowers the sum by at least link::MIN_HELP_DB.
    assert!(
        music13.abs() < 0.05,
        "the bypassed music passes: {music13:.2} dB"
    );
    assert!(
        bypassed >= with_music + 1.0,
        "music bypassed: the ambience takes more ({bypassed:.2} dB)"
    );
}

#[test]
fn two_instances_on_two_threads_stay_sound() {
    // Free-running threads, random block sizes and yields: the frames a member finds then
    // depend on timing (within the lookahead they are still the right ones), so the check is
    // on bounds: finite output, and the ambience losing at least 3 dB less than the music.
    let group = 4;
    let n = 8 * SR as usize;
    let key = dialogue(n);
    let beds = [ambience_at(n, 51, QUIET_AMBIENCE), music_at(n, QUIET_MUSIC)];
    let run = |i: usize, role: Role, seed: u64| {
        let (bed, key) = (beds[i].clone(), key.clone());
        std::thread::spawn(move || {
            let mut m = member(group, role, 4_096);
            let lat = m.latency() as usize;
            let mut rng = Rng::new(seed);
            let mut out = vec![Vec::new(), Vec::new()];
            let mut pos = 0;
            while pos < n {
                let len = rng.range(16, 1_024).min(n - pos);
                let main: Vec<Vec<f32>> = bed.iter().map(|c| c[pos..pos + len].to_vec()).collect();
                let aux: Vec<Vec<f32>> = key.iter().map(|c| c[pos..pos + len].to_vec()).collect();
                for (o, c) in out.iter_mut().zip(m.process(&main, &aux, &[]).unwrap()) {
                    o.extend_from_slice(&c);
                }
                if rng.unit() < 0.05 {
                    std::thread::yield_now();
                }
                pos += len;
            }
            (out, lat)
        })
    };
    let a = run(0, Role::Ambience, 1);
    let m = run(1, Role::Music, 2);
    let (amb_out, lat) = a.join().unwrap();
    let (music_out, _) = m.join().unwrap();
    assert!(all_finite(&amb_out) && all_finite(&music_out));
    let r = 5 * SR as usize..(5.5 * SR as f64) as usize;
    let amb = -gain_db(&amb_out, &beds[0], r.clone(), lat);
    let music = -gain_db(&music_out, &beds[1], r, lat);
    println!("two threads: ambience cut {amb:.2} dB, music cut {music:.2} dB");
    assert!(
        music - amb >= 3.0,
        "the ambience loses 3 dB less than the music"
    );
}

#[test]
fn a_member_without_a_sidechain_follows_the_keyed_one() {
    // Only the music instance gets the dialogue; the ambience instance's sidechain is silent
    // (not connected). Linked, the ambience follows the music's dialogue and is cut where it
    // masks; alone it would not move.
    let n = 6 * SR as usize;
    let key = dialogue(n);
    let beds = [music(n), ambience_at(n, 61, 0.03)];
    let r = (4.0 * SR as f64) as usize..(4.5 * SR as f64) as usize;
    let mut m = member(5, Role::Music, 512);
    let mut a = member(5, Role::Ambience, 512);
    let lat = a.latency() as usize;
    let (mut out, mut pos) = (vec![Vec::new(), Vec::new()], 0);
    while pos < n {
        let len = 512.min(n - pos);
        let slice = |x: &[Vec<f32>]| -> Vec<Vec<f32>> {
            x.iter().map(|c| c[pos..pos + len].to_vec()).collect()
        };
        m.process(&slice(&beds[0]), &slice(&key), &[]).unwrap();
        for (o, c) in out
            .iter_mut()
            .zip(a.process(&slice(&beds[1]), &[], &[]).unwrap())
        {
            o.extend_from_slice(&c);
        }
        pos += len;
    }
    let following = -gain_db(&out, &beds[1], r.clone(), lat);
    let mut alone = member(0, Role::Ambience, 512);
    let out = alone.render(&beds[1], &[], 512usize, &[]).unwrap();
    let unlinked = -gain_db(&out, &beds[1], r, lat);
    println!("keyless ambience cut: {following:.2} dB following the group, {unlinked:.2} dB alone");
    assert!(
        following >= 3.0,
        "the keyless member follows the group's dialogue"
    );
    assert!(
        unlinked.abs() < 0.05,
        "alone, a keyless instance does not duck"
    );
}
