// The console's built files and the migrations are embedded (src/console.rs, src/store/mod.rs);
// rebuild when one is added or removed, not only when an embedded one changes.
fn main() {
    println!("cargo:rerun-if-changed=console/dist");
    println!("cargo:rerun-if-changed=migrations");
}
