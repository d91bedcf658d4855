//! The `orchestrator` binary: parses arguments and hands over to `server::cli`.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let serving = args.iter().any(|a| a == "http" || a == "demo" || a == "bench");
    let debug = args.iter().any(|a| a == "--debug" || a == "-debug");
    let default_level = if debug { "debug" } else if serving { "info" } else { "warn" };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("{default_level},sqlx=warn,tower_http=warn"))),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("orchestrator: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let status = runtime.block_on(server::cli::main_entry(args));
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    std::process::exit(status);
}
