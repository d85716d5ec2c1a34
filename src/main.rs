fn main() {
    if let Err(e) = adal::cli::run() {
        eprintln!("adal: {e:#}");
        std::process::exit(1);
    }
}
