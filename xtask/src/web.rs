//! `cargo xtask web`: builds the web apps for wasm32 into `target/web/`:
//! the customer widget (`target/web/widget/`, see `docs/WIDGET.md`), then
//! the agent console (`target/web/console/`, see `docs/CONSOLE.md`).
//! `NEUROCHAT_WEB_APPS=widget` (or `console`) builds only that one.
//!
//! The widget's steps, each printed as it runs (the console's are the same
//! but for the loader and the budget, see [`build_console`]):
//! 1. `rustup target add wasm32-unknown-unknown` (answers at once when the
//!    target is installed; a failure only warns, the build then says why);
//! 2. `cargo build -p neurochat-widget --lib --target wasm32-unknown-unknown
//!    --profile wasm-release`;
//! 3. the JS glue, generated in-process by `wasm-bindgen-cli-support`
//!    (pinned to the exact `wasm-bindgen` of `Cargo.lock`), `--target web`;
//! 4. `wasm-opt -Oz`, only with a binaryen ≥ 116 (`WASM_OPT=PATH`, else
//!    npm's `binaryen`, pinned in `xtask/web-tools/` and installed into
//!    `target/web-tools/` with `npm ci` when missing, or found in a
//!    `node_modules` of the workspace or on `PATH`); Debian's 108 breaks
//!    wasm-bindgen output at run time and is never used. Without one the
//!    step is skipped, and says so;
//! 5. the glue minified with terser when one is found (`TERSER=PATH`, or
//!    npm's `terser` where wasm-opt is looked for), else shipped as is;
//! 6. content-hashed names, the loader's `__NEUROCHAT_GLUE__` filled in, a
//!    `.gz` next to every file, `manifest.json`, a size table, and the
//!    60 KB gzip budget of loader + glue + WASM.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};
use sha2::{Digest as _, Sha256};

mod publish;

/// The widget crate.
const CRATE: &str = "neurochat-widget";
/// Its library's file stem (the crate name with `_`).
const STEM: &str = "neurochat_widget";
/// The stem of the hashed output files: `neurochat-widget-<hash>.js` and
/// `neurochat-widget-<hash>_bg.wasm`.
const OUT_STEM: &str = "neurochat-widget";
/// The loader's source, relative to the workspace root.
const LOADER: &str = "widget-wasm/loader/neurochat.js";
/// What the build replaces, in the loader, with the hashed glue's file name
/// (a name relative to the loader's own URL, e.g. `neurochat-widget-0123456789abcdef.js`).
const GLUE_PLACEHOLDER: &str = "__NEUROCHAT_GLUE__";
/// The loader's name in the output (stable: it is the URL sites embed).
const LOADER_OUT: &str = "neurochat.js";
/// Hex digits of the SHA-256 content hash kept in file names (64 bits).
const HASH_LEN: usize = 16;
/// Loader + glue + WASM, gzip, at most (docs/WIDGET.md).
pub const BUDGET_GZIP: u64 = 60 * 1024;
/// Oldest binaryen whose output wasm-bindgen modules survive (Debian's 108
/// breaks the externref table).
const WASM_OPT_MIN: u32 = 116;
/// The wasm features rustc's wasm32-unknown-unknown output and wasm-bindgen's
/// glue use; wasm-opt must accept them and may use no others.
const WASM_OPT_FEATURES: &[&str] = &[
    "--enable-mutable-globals",
    "--enable-sign-ext",
    "--enable-nontrapping-float-to-int",
    "--enable-bulk-memory",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// Where [`build`] writes: `target/web/widget/` (`CARGO_TARGET_DIR` respected).
pub fn out_dir() -> Result<PathBuf> {
    Ok(target_dir(&crate::workspace_root()?)?
        .join("web")
        .join("widget"))
}

/// Builds the web apps `NEUROCHAT_WEB_APPS` names (`widget`, `console`,
/// comma-separated; default both): the widget into `target/web/widget/`
/// (checking its size budget), the console into `target/web/console/`.
/// The console is built even when the widget failed, and the widget's
/// error is returned first.
pub fn build() -> Result<()> {
    let apps = std::env::var("NEUROCHAT_WEB_APPS").unwrap_or_default();
    if let Some(unknown) = apps
        .split(',')
        .map(str::trim)
        .find(|a| !a.is_empty() && !["widget", "console"].contains(a))
    {
        bail!("NEUROCHAT_WEB_APPS: unknown app `{unknown}` (widget, console)");
    }
    let wants = |app: &str| apps.trim().is_empty() || apps.split(',').any(|a| a.trim() == app);
    let widget = if wants("widget") {
        build_widget()
    } else {
        Ok(())
    };
    let console = if wants("console") {
        build_console()
    } else {
        Ok(())
    };
    widget.and(console)
}

/// Builds the widget into `target/web/widget/` and checks its size budget.
pub fn build_widget() -> Result<()> {
    let root = crate::workspace_root()?;
    let target = target_dir(&root)?;
    let out = out_dir()?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));

    // 1. The target (idempotent; offline when it is installed).
    eprintln!();
    eprintln!("==> web: wasm32 target");
    eprintln!("    $ rustup target add wasm32-unknown-unknown");
    match Command::new("rustup")
        .args(["target", "add", "wasm32-unknown-unknown"])
        .current_dir(&root)
        .status()
    {
        Ok(s) if s.success() => {}
        Ok(s) => eprintln!("warning: `rustup target add wasm32-unknown-unknown` failed ({s})"),
        Err(e) => eprintln!("warning: could not run rustup ({e}); assuming the target is there"),
    }

    // 2. The module.
    let args = [
        "build",
        "-p",
        CRATE,
        "--lib",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        "wasm-release",
        // The profile strips symbols, which drops the `target_features`
        // section wasm-bindgen reads to see which wasm features (reference
        // types) the module uses. Keep it here; the glue generator removes
        // the name and producers sections, and wasm-opt the rest.
        "--config",
        "profile.wasm-release.strip=false",
    ];
    eprintln!();
    eprintln!("==> web: build the widget");
    eprintln!("    $ cargo {}", args.join(" "));
    let status = Command::new(&cargo)
        .args(args)
        .current_dir(&root)
        .status()
        .context("could not start cargo")?;
    if !status.success() {
        bail!(
            "xtask web: building {CRATE} for wasm32 failed ({status}); if the target is \
             missing: `rustup target add wasm32-unknown-unknown`"
        );
    }
    let module = target
        .join("wasm32-unknown-unknown")
        .join("wasm-release")
        .join(format!("{STEM}.wasm"));

    // 3. The glue, into a scratch directory next to the output, of this
    // process only: `cargo xtask test-browser` and `run` build too, maybe
    // at the same time as another `web` in the same checkout.
    eprintln!();
    eprintln!(
        "==> web: JS glue (wasm-bindgen-cli-support {}, --target web)",
        BINDGEN_VERSION
    );
    let scratch = target
        .join("web")
        .join(format!(".bindgen-{}", std::process::id()));
    if scratch.exists() {
        fs::remove_dir_all(&scratch).with_context(|| format!("clearing {}", scratch.display()))?;
    }
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&module)
        .web(true)
        .map_err(|e| anyhow::anyhow!("{e:#}"))?
        .typescript(false)
        .omit_default_module_path(false)
        .remove_name_section(true)
        .remove_producers_section(true)
        .generate(&scratch)
        .map_err(|e| anyhow::anyhow!("wasm-bindgen: {e:#}"))
        .with_context(|| format!("generating the glue of {}", module.display()))?;
    if scratch.join("snippets").exists() {
        bail!(
            "xtask web: the widget uses JS snippets (`#[wasm_bindgen(inline_js)]` or \
             `module = ...`), which the web build does not ship; keep JS in the loader"
        );
    }
    let glue =
        fs::read_to_string(scratch.join(format!("{STEM}.js"))).context("reading the glue")?;
    let bg = scratch.join(format!("{STEM}_bg.wasm"));

    // 4. wasm-opt, when a good one exists (the pinned npm tools first).
    ensure_web_tools(&root, &target);
    eprintln!();
    eprintln!("==> web: wasm-opt -Oz");
    let wasm = match find_wasm_opt(&root, &target) {
        Ok((wasm_opt, version)) => {
            let optimized = scratch.join(format!("{STEM}_bg.opt.wasm"));
            let mut cmd = Command::new(&wasm_opt);
            cmd.arg("-Oz")
                .args(WASM_OPT_FEATURES)
                // Only the glue generator reads it, and that ran already.
                .arg("--strip-target-features")
                .arg(&bg)
                .arg("-o")
                .arg(&optimized);
            eprintln!("    $ {}", show(&cmd));
            let status = cmd
                .status()
                .with_context(|| format!("could not run {}", wasm_opt.display()))?;
            if !status.success() {
                bail!("xtask web: wasm-opt (binaryen {version}) failed ({status})");
            }
            let before = fs::metadata(&bg).map(|m| m.len()).unwrap_or(0);
            let bytes = fs::read(&optimized).context("reading wasm-opt's output")?;
            if !bytes.starts_with(b"\0asm") {
                bail!(
                    "xtask web: wasm-opt (binaryen {version}) wrote no module to {} ({} bytes)",
                    optimized.display(),
                    bytes.len()
                );
            }
            eprintln!("    binaryen {version}: {before} → {} bytes", bytes.len());
            bytes
        }
        Err(why) => {
            eprintln!("    SKIPPED: {why}");
            eprintln!(
                "    (the module works without it, a few KB larger; for the real size: \
                 npm, which installs {WEB_TOOLS} into target/web-tools, or WASM_OPT=PATH)"
            );
            fs::read(&bg).context("reading the module")?
        }
    };

    // 5. The glue minified, when terser is there (a JS file of wasm-bindgen
    // is mostly names and whitespace: about a quarter less gzip).
    eprintln!();
    eprintln!("==> web: terser (the glue)");
    let glue = match find_node_tool(&root, &target, "TERSER", "terser") {
        Some(terser) => {
            let minified = scratch.join(format!("{STEM}.min.js"));
            let mut cmd = Command::new(&terser);
            cmd.arg(scratch.join(format!("{STEM}.js")))
                .args(["--module", "--compress", "--mangle", "--comments", "false"])
                .arg("--output")
                .arg(&minified);
            eprintln!("    $ {}", show(&cmd));
            let status = cmd
                .status()
                .with_context(|| format!("could not run {}", terser.display()))?;
            if !status.success() {
                bail!("xtask web: terser failed ({status})");
            }
            let text = fs::read_to_string(&minified).context("reading terser's output")?;
            eprintln!("    {} → {} bytes", glue.len(), text.len());
            text
        }
        None => {
            eprintln!(
                "    SKIPPED: no terser found (TERSER=PATH, or npm, which installs \
                 {WEB_TOOLS} into target/web-tools); the glue ships unminified"
            );
            glue
        }
    };

    // 6. Hashed names: one hash over the glue (as shipped, but for the
    // module's name) and the final module names the pair, so either
    // changing renames both.
    let hash = {
        let mut h = Sha256::new();
        h.update(glue.as_bytes());
        h.update([0]);
        h.update(&wasm);
        let mut hex = hex::encode(h.finalize());
        hex.truncate(HASH_LEN);
        hex
    };
    let glue_name = format!("{OUT_STEM}-{hash}.js");
    let wasm_name = format!("{OUT_STEM}-{hash}_bg.wasm");
    // The glue's default module URL (`init()` without arguments) is
    // `new URL('<stem>_bg.wasm', import.meta.url)`: point it at the hashed
    // module, next to the glue.
    let default_name = format!("{STEM}_bg.wasm");
    match glue.matches(&default_name).count() {
        1 => {}
        n => bail!(
            "xtask web: expected the glue to name its module {default_name} once, found {n} \
             times (did wasm-bindgen's output change?)"
        ),
    }
    let glue = glue.replace(&default_name, &wasm_name);

    let loader_src = root.join(LOADER);
    let loader = fs::read_to_string(&loader_src).with_context(|| {
        format!(
            "reading the loader {} (the widget crate's loader; see docs/WIDGET.md)",
            loader_src.display()
        )
    })?;
    if !loader.contains(GLUE_PLACEHOLDER) {
        bail!("xtask web: the loader {LOADER} has no {GLUE_PLACEHOLDER} placeholder to fill");
    }
    let loader = loader.replace(GLUE_PLACEHOLDER, &glue_name);

    let files: [(&str, &[u8]); 3] = [
        (LOADER_OUT, loader.as_bytes()),
        (&glue_name, glue.as_bytes()),
        (&wasm_name, &wasm),
    ];
    let mut fields = serde_json::Map::new();
    fields.insert("loader".into(), LOADER_OUT.into());
    fields.insert("glue".into(), glue_name.as_str().into());
    fields.insert("wasm".into(), wasm_name.as_str().into());
    let (_, gz) = publish::publish("widget", &out, &scratch, &files, fields)?;

    // The budget.
    println!(
        "  budget: {gz} of {BUDGET_GZIP} bytes gzip ({:.1}%)",
        gz as f64 * 100.0 / BUDGET_GZIP as f64
    );
    if gz > BUDGET_GZIP {
        bail!(
            "xtask web: loader + glue + WASM are {gz} bytes gzip, over the budget of \
             {BUDGET_GZIP} (docs/WIDGET.md)"
        );
    }
    Ok(())
}

/// The console crate.
const CONSOLE_CRATE: &str = "neurochat-console";
/// Its library's file stem.
const CONSOLE_STEM: &str = "neurochat_console";
/// The stem of the console's hashed files (`neurochat-console-<hash>.js`,
/// `…_bg.wasm`, `…-boot.js`, `….css`).
const CONSOLE_OUT_STEM: &str = "neurochat-console";
/// The console's page and style sheet, relative to the workspace root.
const CONSOLE_INDEX: &str = "console-wasm/assets/index.html";
const CONSOLE_CSS: &str = "console-wasm/assets/console.css";
/// Filled in, in the page, with the URL of the boot module and the sheet.
const CONSOLE_BOOT_PLACEHOLDER: &str = "__CONSOLE_BOOT__";
const CONSOLE_CSS_PLACEHOLDER: &str = "__CONSOLE_CSS__";
/// The URL path the example server serves the console's files under.
const CONSOLE_URL: &str = "/console";

/// Where [`build_console`] writes: `target/web/console/`.
pub fn console_out_dir() -> Result<PathBuf> {
    Ok(target_dir(&crate::workspace_root()?)?
        .join("web")
        .join("console"))
}

/// Builds the agent console into `target/web/console/`: the module and its
/// glue (as the widget's: wasm-bindgen, wasm-opt and terser when found),
/// a boot module that calls the glue's `init()` (the page's CSP allows no
/// inline script), the style sheet, all content-hashed, `index.html`
/// naming them, a `.gz` next to each, `manifest.json` and a size table.
/// The console has no size budget.
pub fn build_console() -> Result<()> {
    let root = crate::workspace_root()?;
    let target = target_dir(&root)?;
    let out = console_out_dir()?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));

    let args = [
        "build",
        "-p",
        CONSOLE_CRATE,
        "--lib",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        "wasm-release",
        "--config",
        "profile.wasm-release.strip=false",
    ];
    eprintln!();
    eprintln!("==> web: build the console");
    eprintln!("    $ cargo {}", args.join(" "));
    let status = Command::new(&cargo)
        .args(args)
        .current_dir(&root)
        .status()
        .context("could not start cargo")?;
    if !status.success() {
        bail!("xtask web: building {CONSOLE_CRATE} for wasm32 failed ({status})");
    }
    let module = target
        .join("wasm32-unknown-unknown")
        .join("wasm-release")
        .join(format!("{CONSOLE_STEM}.wasm"));

    eprintln!();
    eprintln!(
        "==> web: console JS glue (wasm-bindgen-cli-support {BINDGEN_VERSION}, --target web)"
    );
    let scratch = target
        .join("web")
        .join(format!(".bindgen-console-{}", std::process::id()));
    if scratch.exists() {
        fs::remove_dir_all(&scratch).with_context(|| format!("clearing {}", scratch.display()))?;
    }
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&module)
        .web(true)
        .map_err(|e| anyhow::anyhow!("{e:#}"))?
        .typescript(false)
        .omit_default_module_path(false)
        .remove_name_section(true)
        .remove_producers_section(true)
        .generate(&scratch)
        .map_err(|e| anyhow::anyhow!("wasm-bindgen: {e:#}"))
        .with_context(|| format!("generating the glue of {}", module.display()))?;
    if scratch.join("snippets").exists() {
        bail!("xtask web: the console uses JS snippets, which the web build does not ship");
    }
    let glue_path = scratch.join(format!("{CONSOLE_STEM}.js"));
    let glue = fs::read_to_string(&glue_path).context("reading the console's glue")?;
    let bg = scratch.join(format!("{CONSOLE_STEM}_bg.wasm"));

    ensure_web_tools(&root, &target);
    eprintln!();
    eprintln!("==> web: console wasm-opt -Oz");
    let wasm = match find_wasm_opt(&root, &target) {
        Ok((wasm_opt, version)) => {
            let optimized = scratch.join(format!("{CONSOLE_STEM}_bg.opt.wasm"));
            let mut cmd = Command::new(&wasm_opt);
            cmd.arg("-Oz")
                .args(WASM_OPT_FEATURES)
                .arg("--strip-target-features")
                .arg(&bg)
                .arg("-o")
                .arg(&optimized);
            eprintln!("    $ {}", show(&cmd));
            let status = cmd
                .status()
                .with_context(|| format!("could not run {}", wasm_opt.display()))?;
            if !status.success() {
                bail!("xtask web: wasm-opt (binaryen {version}) failed on the console ({status})");
            }
            let bytes = fs::read(&optimized).context("reading wasm-opt's output")?;
            if !bytes.starts_with(b"\0asm") {
                bail!("xtask web: wasm-opt wrote no module for the console");
            }
            eprintln!(
                "    binaryen {version}: {} → {} bytes",
                fs::metadata(&bg).map(|m| m.len()).unwrap_or(0),
                bytes.len()
            );
            bytes
        }
        Err(why) => {
            eprintln!("    SKIPPED: {why}");
            fs::read(&bg).context("reading the console's module")?
        }
    };

    eprintln!();
    eprintln!("==> web: console terser (the glue)");
    let glue = match find_node_tool(&root, &target, "TERSER", "terser") {
        Some(terser) => {
            let minified = scratch.join(format!("{CONSOLE_STEM}.min.js"));
            let mut cmd = Command::new(&terser);
            cmd.arg(&glue_path)
                .args(["--module", "--compress", "--mangle", "--comments", "false"])
                .arg("--output")
                .arg(&minified);
            eprintln!("    $ {}", show(&cmd));
            let status = cmd
                .status()
                .with_context(|| format!("could not run {}", terser.display()))?;
            if !status.success() {
                bail!("xtask web: terser failed on the console's glue ({status})");
            }
            fs::read_to_string(&minified).context("reading terser's output")?
        }
        None => {
            eprintln!("    SKIPPED: no terser found; the glue ships unminified");
            glue
        }
    };

    let hash_of = |parts: &[&[u8]]| {
        let mut h = Sha256::new();
        for p in parts {
            h.update(p);
            h.update([0]);
        }
        let mut hex = hex::encode(h.finalize());
        hex.truncate(HASH_LEN);
        hex
    };
    let hash = hash_of(&[glue.as_bytes(), &wasm]);
    let glue_name = format!("{CONSOLE_OUT_STEM}-{hash}.js");
    let wasm_name = format!("{CONSOLE_OUT_STEM}-{hash}_bg.wasm");
    let default_name = format!("{CONSOLE_STEM}_bg.wasm");
    match glue.matches(&default_name).count() {
        1 => {}
        n => bail!(
            "xtask web: expected the console's glue to name its module {default_name} once, \
             found {n} times"
        ),
    }
    let glue = glue.replace(&default_name, &wasm_name);
    // The boot module: the page's CSP (`script-src 'self'`) allows no
    // inline script, so the call of `init()` is a file of its own.
    let boot = format!("import init from \"./{glue_name}\";\ninit();\n");
    let boot_name = format!("{CONSOLE_OUT_STEM}-boot-{}.js", hash_of(&[boot.as_bytes()]));
    let css = fs::read_to_string(root.join(CONSOLE_CSS))
        .with_context(|| format!("reading {CONSOLE_CSS}"))?;
    let css_name = format!("{CONSOLE_OUT_STEM}-{}.css", hash_of(&[css.as_bytes()]));
    let index = fs::read_to_string(root.join(CONSOLE_INDEX))
        .with_context(|| format!("reading {CONSOLE_INDEX}"))?;
    for placeholder in [CONSOLE_BOOT_PLACEHOLDER, CONSOLE_CSS_PLACEHOLDER] {
        if !index.contains(placeholder) {
            bail!("xtask web: {CONSOLE_INDEX} has no {placeholder} placeholder to fill");
        }
    }
    let index = index
        .replace(
            CONSOLE_BOOT_PLACEHOLDER,
            &format!("{CONSOLE_URL}/{boot_name}"),
        )
        .replace(
            CONSOLE_CSS_PLACEHOLDER,
            &format!("{CONSOLE_URL}/{css_name}"),
        );

    let files: [(&str, &[u8]); 5] = [
        ("index.html", index.as_bytes()),
        (&boot_name, boot.as_bytes()),
        (&glue_name, glue.as_bytes()),
        (&wasm_name, &wasm),
        (&css_name, css.as_bytes()),
    ];
    let mut fields = serde_json::Map::new();
    fields.insert("index".into(), "index.html".into());
    for (key, name) in [
        ("boot", &boot_name),
        ("glue", &glue_name),
        ("wasm", &wasm_name),
        ("css", &css_name),
    ] {
        fields.insert(key.into(), name.as_str().into());
    }
    publish::publish("console", &out, &scratch, &files, fields)?;
    println!("  (the console has no size budget)");
    Ok(())
}

/// The wasm-bindgen version the glue generator is built from (`Cargo.lock`
/// pins the widget's `wasm-bindgen` to the same).
const BINDGEN_VERSION: &str = "0.2.130";

/// `CARGO_TARGET_DIR` (relative to the current directory, as cargo reads
/// it) or the workspace's `target/`.
fn target_dir(root: &Path) -> Result<PathBuf> {
    Ok(match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                std::env::current_dir()
                    .context("current directory")?
                    .join(dir)
            }
        }
        _ => root.join("target"),
    })
}

/// The npm packages of the build's tools (binaryen, terser), pinned with
/// a lock file, relative to the workspace root.
const WEB_TOOLS: &str = "xtask/web-tools";

/// Installs the pinned build tools into `target/web-tools/` with `npm ci`
/// when they are not there or the lock file changed. Never fails the build:
/// without npm (or the registry) the tools are looked for elsewhere, and the
/// steps needing them say they were skipped.
fn ensure_web_tools(root: &Path, target: &Path) {
    if std::env::var_os("WASM_OPT").is_some() && std::env::var_os("TERSER").is_some() {
        return;
    }
    let src = root.join(WEB_TOOLS);
    let dir = target.join("web-tools");
    let stamp = dir.join(".installed-lock.json");
    let Ok(lock) = fs::read(src.join("package-lock.json")) else {
        eprintln!("warning: {WEB_TOOLS}/package-lock.json is missing; not installing the tools");
        return;
    };
    if fs::read(&stamp).is_ok_and(|s| s == lock) {
        return;
    }
    eprintln!();
    eprintln!("==> web: install the build tools ({WEB_TOOLS}: binaryen, terser)");
    let copied = fs::create_dir_all(&dir).is_ok()
        && ["package.json", "package-lock.json"]
            .iter()
            .all(|f| fs::copy(src.join(f), dir.join(f)).is_ok());
    if !copied {
        eprintln!("warning: could not copy {WEB_TOOLS} to {}", dir.display());
        return;
    }
    let mut cmd = Command::new("npm");
    cmd.args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&dir);
    eprintln!("    $ (cd {} && {})", dir.display(), show(&cmd));
    match cmd.status() {
        Ok(s) if s.success() => {
            if let Err(e) = fs::write(&stamp, &lock) {
                eprintln!("warning: writing {}: {e}", stamp.display());
            }
        }
        Ok(s) => eprintln!("warning: `npm ci` failed ({s}); looking for the tools elsewhere"),
        Err(e) => eprintln!("warning: could not run npm ({e}); looking for the tools elsewhere"),
    }
}

/// An npm tool: `$ENV` if set, else `name` from a `node_modules/.bin` of
/// `target/web-tools/`, the workspace or `tests/browser/`, else on `PATH`;
/// `None` when none answers `--version`.
fn find_node_tool(root: &Path, target: &Path, env: &str, name: &str) -> Option<PathBuf> {
    let candidates: Vec<PathBuf> = match std::env::var_os(env).filter(|p| !p.is_empty()) {
        Some(path) => vec![PathBuf::from(path)],
        None => node_bins(root, target, name),
    };
    candidates.into_iter().find(|program| {
        Command::new(program)
            .arg("--version")
            .output()
            .is_ok_and(|out| out.status.success())
    })
}

/// `name` in the `node_modules/.bin` directories searched, then bare (PATH).
fn node_bins(root: &Path, target: &Path, name: &str) -> Vec<PathBuf> {
    let mut bins: Vec<PathBuf> = [
        target.join("web-tools"),
        root.to_path_buf(),
        root.join("tests").join("browser"),
    ]
    .iter()
    .map(|dir| dir.join("node_modules").join(".bin").join(name))
    .collect();
    bins.push(PathBuf::from(name));
    bins
}

/// The first wasm-opt of binaryen ≥ [`WASM_OPT_MIN`], or why there is none.
/// `WASM_OPT=PATH` is the only candidate when set.
fn find_wasm_opt(root: &Path, target: &Path) -> std::result::Result<(PathBuf, u32), String> {
    let candidates: Vec<PathBuf> = match std::env::var_os("WASM_OPT").filter(|p| !p.is_empty()) {
        Some(path) => vec![PathBuf::from(path)],
        None => node_bins(root, target, "wasm-opt"),
    };
    let mut refused = Vec::new();
    for program in candidates {
        let out = match Command::new(&program).arg("--version").output() {
            Ok(out) if out.status.success() => out,
            _ => continue,
        };
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        match binaryen_version(&text) {
            Some(v) if v >= WASM_OPT_MIN => {
                eprintln!("    using {} (binaryen {v})", program.display());
                return Ok((program, v));
            }
            v => refused.push(format!(
                "{} is binaryen {} (< {WASM_OPT_MIN}: its output breaks wasm-bindgen modules), \
                 not used",
                program.display(),
                v.map_or_else(
                    || format!("of unknown version `{}`", text.trim()),
                    |v| v.to_string()
                )
            )),
        }
    }
    if refused.is_empty() {
        Err(format!("no wasm-opt (binaryen ≥ {WASM_OPT_MIN}) found"))
    } else {
        Err(format!(
            "no wasm-opt of binaryen ≥ {WASM_OPT_MIN} found; {}",
            refused.join("; ")
        ))
    }
}

/// `wasm-opt version 132 (version_132)` → 132.
fn binaryen_version(text: &str) -> Option<u32> {
    let rest = &text[text.find("version")? + "version".len()..];
    let digits: String = rest
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// A command line for the log.
fn show(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::binaryen_version;

    #[test]
    fn binaryen_versions() {
        assert_eq!(
            binaryen_version("wasm-opt version 132 (version_132)\n"),
            Some(132)
        );
        assert_eq!(binaryen_version("wasm-opt version 108\n"), Some(108));
        assert_eq!(binaryen_version("wasm-opt\n"), None);
    }
}
