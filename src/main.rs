use std::io::Write;
use std::process::ExitCode;

use gbooks::error::{self, exit};

fn main() -> ExitCode {
    // Release builds abort on panic (no unwinding tables): exit 101 as an
    // unwinding panic would, after the usual message.
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        report(info);
        std::process::exit(101);
    }));
    let cli = match gbooks::cli::Cli::try_parse_args() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            // Help and version go to stdout and exit 0 (bare `gbooks` shows
            // help, exit 2); a usage error is one line, exit 2.
            if e.kind() == ErrorKind::DisplayHelp {
                // Long help is paged like other long output; quitting the
                // pager early is still success.
                let _ = gbooks::print_help(&e);
            } else if matches!(
                e.kind(),
                ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = e.print();
            } else {
                let args = std::env::args_os().map(|a| a.to_string_lossy().into_owned());
                let _ = writeln!(
                    std::io::stderr(),
                    "gbooks: error: {}",
                    error::usage_line(&e, args)
                );
            }
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "gbooks: error: cannot start: {e}");
            return ExitCode::from(exit::FAILURE as u8);
        }
    };
    let result = runtime.block_on(async {
        // Listening before the command starts: a Ctrl-C at its first prompt
        // must not find the default handler, which kills without exit 130.
        let interrupted = interrupted();
        tokio::select! {
            biased;
            () = interrupted => Err(error::Interrupted.into()),
            result = gbooks::run(cli) => result,
        }
    });
    // Blocking work (a keyring call) must not hold the exit.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if error::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let code = error::exit_code(&err);
            // Not eprintln: a closed stderr (`2>&1 | head -1`) must not panic.
            if code != exit::INTERRUPTED {
                let _ = writeln!(std::io::stderr(), "{}", error::report_line(&err));
            }
            ExitCode::from(code as u8)
        }
    }
}

/// Resolves at the first Ctrl-C; the handler is in place once this returns.
fn interrupted() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut sigint = signal(SignalKind::interrupt()).ok();
        async move {
            match sigint.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
