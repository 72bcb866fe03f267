//! The `certwatch` binary: everything lives in the library; see `certwatch::cli`.

fn main() -> std::process::ExitCode {
    certwatch::cli::main()
}
