//! Writes every Rust-generated fixture under `contracts/test/fixtures/`:
//! `cargo run -p surety-primitives --example gen-fixtures`.

#[path = "../tests/fixtures/mod.rs"]
mod fixtures;

fn main() -> std::io::Result<()> {
    let dir = fixtures::dir();
    std::fs::create_dir_all(&dir)?;
    for (name, contents) in fixtures::generate() {
        let path = dir.join(name);
        std::fs::write(&path, contents)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
