// The console's built files are embedded (src/console.rs); rebuild when one is added or removed,
// not only when an embedded one changes.
fn main() {
    println!("cargo:rerun-if-changed=console/dist");
}
