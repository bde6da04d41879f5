//! The `keysift` command. All behaviour lives in the library and the `cli` module; this file
//! only hands over the exit code.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
