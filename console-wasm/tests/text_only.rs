//! The console renders every text as text: no source file may use an API
//! that parses markup (`innerHTML`, `outerHTML`, `insertAdjacentHTML`,
//! `document.write`, `createContextualFragment`), whatever the data.

use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_markup_parsing_apis() {
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    assert!(files.len() > 5, "found the sources: {files:?}");
    let forbidden = [
        "inner_html",
        "outer_html",
        "insert_adjacent_html",
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "create_contextual_fragment",
        "document().write",
    ];
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        for word in forbidden {
            assert!(
                !text.contains(word),
                "{} uses `{word}`: render text with text_content / text nodes",
                f.display()
            );
        }
    }
}
