//! Build script: gives the Gherkin parser its keyword table without copying it into the
//! project. The table is the `languages.json` that the `gherkin` crate (our dependency,
//! version from Cargo.lock) ships in its own source; we read it from Cargo's registry
//! checkout and place it in OUT_DIR.

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=Cargo.lock");
    println!("cargo:rerun-if-changed=build.rs");
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let version = gherkin_version(&manifest.join("Cargo.lock")).unwrap_or_else(|| "0.16.0".to_string());
    let source = find_languages(&version).unwrap_or_else(|| {
        panic!(
            "cannot find languages.json of the gherkin {version} crate under $CARGO_HOME/registry/src \
             (run `cargo fetch` first; vendored builds: set SHAKEDOWN_GHERKIN_LANGUAGES to its path)"
        )
    });
    println!("cargo:rerun-if-changed={}", source.display());
    std::fs::copy(&source, out.join("gherkin-languages.json")).expect("copy languages.json into OUT_DIR");
}

/// The locked version of the `gherkin` package.
fn gherkin_version(lock: &Path) -> Option<String> {
    let text = std::fs::read_to_string(lock).ok()?;
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"gherkin\"" {
            let v = lines.next()?.trim().strip_prefix("version = \"")?.strip_suffix('"')?;
            return Some(v.to_string());
        }
    }
    None
}

fn find_languages(version: &str) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SHAKEDOWN_GHERKIN_LANGUAGES") {
        return Some(PathBuf::from(p));
    }
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
    let registry = home.join("registry").join("src");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&registry).ok()?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    dirs.sort();
    dirs.into_iter()
        .map(|d| d.join(format!("gherkin-{version}")).join("src").join("languages.json"))
        .find(|p| p.is_file())
}
