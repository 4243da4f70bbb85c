//! Link the plugin library with `-z nodelete` on Linux: Rust's standard library registers
//! thread-exit destructors inside the library, and a host that unloads the plugin while a
//! thread that ran plugin code is still alive would crash when that thread exits
//! (rust-lang/rust#91979). Keeping the library mapped is what hosts expect anyway.

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
    }
}
