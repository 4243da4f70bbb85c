//! `underscore`: the command-line tool. `underscore render --help` lists the options.

fn main() {
    std::process::exit(underscore_render::cli::main_with_args(std::env::args_os()));
}
