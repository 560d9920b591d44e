//! Writing a built web app: its files and their `.gz`, `manifest.json`,
//! the swap into the output directory, and the size table.

use std::fs;
use std::io::Write as _;
use std::path::Path;

use anyhow::{Context as _, Result};
use flate2::Compression;
use flate2::write::GzEncoder;

/// One file's name and its size, raw and gzip.
pub(super) struct Size {
    pub(super) name: String,
    pub(super) raw: u64,
    pub(super) gzip: u64,
}

/// Writes `files` (and a `.gz` of each) and `manifest.json` (`fields` plus
/// `sizes`) into a fresh directory, which then replaces `out`, so a server
/// or test reading `out` never sees half a build; removes `scratch`; prints
/// the size table. `app` names the fresh directory (`.<app>-<pid>` beside
/// `out`). Returns the total raw and gzip bytes.
pub(super) fn publish(
    app: &str,
    out: &Path,
    scratch: &Path,
    files: &[(&str, &[u8])],
    mut fields: serde_json::Map<String, serde_json::Value>,
) -> Result<(u64, u64)> {
    let fresh = out.with_file_name(format!(".{app}-{}", std::process::id()));
    if fresh.exists() {
        fs::remove_dir_all(&fresh).with_context(|| format!("clearing {}", fresh.display()))?;
    }
    fs::create_dir_all(&fresh).with_context(|| format!("creating {}", fresh.display()))?;
    let mut sizes = Vec::new();
    for (name, bytes) in files {
        let gz = gzip(bytes)?;
        write(&fresh.join(name), bytes)?;
        write(&fresh.join(format!("{name}.gz")), &gz)?;
        sizes.push(Size {
            name: (*name).to_owned(),
            raw: bytes.len() as u64,
            gzip: gz.len() as u64,
        });
    }
    fields.insert(
        "sizes".into(),
        sizes
            .iter()
            .map(|s| {
                let size = serde_json::json!({ "raw": s.raw, "gzip": s.gzip });
                (s.name.clone(), size)
            })
            .collect::<serde_json::Map<_, _>>()
            .into(),
    );
    let manifest = serde_json::to_string_pretty(&serde_json::Value::Object(fields))
        .context("manifest.json")?;
    write(
        &fresh.join("manifest.json"),
        format!("{manifest}\n").as_bytes(),
    )?;
    let _ = fs::remove_dir_all(scratch);
    replace_dir(&fresh, out)?;

    let (raw, gz) = sizes
        .iter()
        .fold((0, 0), |(r, g), s| (r + s.raw, g + s.gzip));
    let width = sizes.iter().map(|s| s.name.len()).max().unwrap_or(0).max(5);
    println!();
    println!("{}", out.display());
    println!("  {:<width$}  {:>9}  {:>9}", "file", "raw", "gzip");
    for s in &sizes {
        println!("  {:<width$}  {:>9}  {:>9}", s.name, s.raw, s.gzip);
    }
    println!("  {:<width$}  {raw:>9}  {gz:>9}", "total");
    Ok((raw, gz))
}

/// Puts directory `fresh` in the place of `out` (whose old content goes).
/// Another build finishing at the same moment may put its own directory
/// there in between: then move that one aside too and try again.
fn replace_dir(fresh: &Path, out: &Path) -> Result<()> {
    let name = out
        .file_name()
        .map_or_else(|| "web".into(), |n| n.to_string_lossy().into_owned());
    let old = out.with_file_name(format!(".{name}-old-{}", std::process::id()));
    let mut attempt = 0;
    loop {
        if old.exists() {
            fs::remove_dir_all(&old).with_context(|| format!("removing {}", old.display()))?;
        }
        if out.exists() {
            fs::rename(out, &old).with_context(|| format!("moving {} aside", out.display()))?;
        }
        match fs::rename(fresh, out) {
            Ok(()) => break,
            Err(_) if attempt < 3 => attempt += 1,
            Err(e) => {
                return Err(e).with_context(|| format!("moving the build to {}", out.display()));
            }
        }
    }
    if old.exists() {
        fs::remove_dir_all(&old).with_context(|| format!("removing {}", old.display()))?;
    }
    Ok(())
}

fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::best());
    enc.write_all(bytes).context("gzip")?;
    enc.finish().context("gzip")
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}
