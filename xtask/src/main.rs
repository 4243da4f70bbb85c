//! `cargo xtask bundle underscore --release` builds `target/bundled/Underscore.{clap,vst3}`.

fn main() -> nice_plug_xtask::Result<()> {
    nice_plug_xtask::main()
}
