//! The tera templates: built in (embedded with `include_str!`), each also
//! reachable as `__builtin/<name>` so an override can `{% extends %}` it and
//! replace one block; files in `templates_dir` replace the built-in of the
//! same name (zola-style layering). Reading `templates_dir` is the only I/O.

use anyhow::{anyhow, Context, Result};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tera::Tera;

/// The built-in templates, by name.
pub const BUILTINS: &[(&str, &str)] = &[
    ("report.html", include_str!("../../templates/report.html")),
    ("report.txt", include_str!("../../templates/report.txt")),
    ("subject.txt", include_str!("../../templates/subject.txt")),
];

/// Name of the labels file that may sit in `templates_dir`.
pub const LABELS_FILE: &str = "labels.toml";

/// Built-in templates with the files of `dir` on top, and `subject` (a
/// report's `subject` setting) replacing subject.txt.
pub fn load(dir: Option<&Path>, subject: Option<&str>) -> Result<Tera> {
    let mut tera = Tera::default();
    tera.register_filter("pad", pad);
    let mut raw: Vec<(String, &str)> = Vec::new();
    for (name, text) in BUILTINS {
        raw.push((format!("__builtin/{name}"), text));
        raw.push((name.to_string(), text));
    }
    tera.add_raw_templates(raw)
        .map_err(|e| anyhow!("{}", chain(&e)))
        .context("the built-in templates")?;
    if let Some(dir) = dir {
        let files = template_files(dir)?;
        tera.add_template_files(files.iter().map(|(p, n)| (p.as_path(), Some(n.as_str()))))
            .map_err(|e| anyhow!("{}", chain(&e)))
            .with_context(|| format!("templates_dir {}", dir.display()))?;
    }
    if let Some(s) = subject {
        tera.add_raw_template("subject.txt", s)
            .map_err(|e| anyhow!("{}", chain(&e)))
            .context("the report's subject template")?;
    }
    Ok(tera)
}

/// The text of `templates_dir/labels.toml`, if there is one.
pub fn labels_override(dir: Option<&Path>) -> Result<Option<(String, String)>> {
    let Some(dir) = dir else { return Ok(None) };
    let p = dir.join(LABELS_FILE);
    if !p.exists() {
        return Ok(None);
    }
    let text =
        std::fs::read_to_string(&p).with_context(|| format!("cannot read {}", p.display()))?;
    Ok(Some((text, p.display().to_string())))
}

/// Every template file under `dir`, named by its path relative to `dir`.
fn template_files(dir: &Path) -> Result<Vec<(PathBuf, String)>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).with_context(|| {
            format!(
                "cannot read templates_dir {}: check the path in the config",
                d.display()
            )
        })?;
        for e in entries {
            let p = e?.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let rel = p.strip_prefix(dir).unwrap_or(&p);
            let name = rel.to_string_lossy().replace('\\', "/");
            if name == LABELS_FILE || name.starts_with('.') {
                continue;
            }
            out.push((p, name));
        }
    }
    out.sort();
    Ok(out)
}

/// Renders one template; the error names the template and the cause.
pub fn render(tera: &Tera, name: &str, ctx: &tera::Context) -> Result<String> {
    tera.render(name, ctx)
        .map_err(|e| anyhow!("template {name}: {}", chain(&e)))
}

/// Tera's error with its causes on one line (tera 1 puts the reason in
/// the source chain).
fn chain(e: &tera::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        parts.push(s.to_string());
        src = s.source();
    }
    parts.join(": ")
}

/// `{{ value | pad(width=20) }}` pads text to a display width (Hangul and
/// other wide characters count two columns); `right=true` aligns right.
fn pad(v: &Value, args: &HashMap<String, Value>) -> tera::Result<Value> {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let width = args
        .get("width")
        .and_then(|w| w.as_u64())
        .ok_or_else(|| tera::Error::msg("pad needs width=N"))? as usize;
    let right = args.get("right").and_then(|r| r.as_bool()).unwrap_or(false);
    let used = unicode_width::UnicodeWidthStr::width(s.as_str());
    let fill = " ".repeat(width.saturating_sub(used));
    Ok(Value::String(if right {
        format!("{fill}{s}")
    } else {
        format!("{s}{fill}")
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_in_templates_dir_replaces_the_builtin_and_can_extend_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("subject.txt"),
            "{% extends \"__builtin/subject.txt\" %}",
        )
        .unwrap();
        std::fs::write(dir.path().join("report.txt"), "custom {{ period }}").unwrap();
        let tera = load(Some(dir.path()), None).unwrap();
        let mut ctx = tera::Context::new();
        ctx.insert("period", "2026-06");
        ctx.insert("default_subject", "S");
        assert_eq!(render(&tera, "report.txt", &ctx).unwrap(), "custom 2026-06");
        assert_eq!(render(&tera, "subject.txt", &ctx).unwrap().trim(), "S");
    }

    #[test]
    fn errors_name_the_template() {
        let tera = load(None, Some("{{ nope }}")).unwrap();
        let err = render(&tera, "subject.txt", &tera::Context::new()).unwrap_err();
        assert!(err.to_string().contains("template subject.txt"), "{err}");
        assert!(err.to_string().contains("nope"), "{err}");
        assert!(load(None, Some("{% if %}")).is_err());
    }

    #[test]
    fn pad_counts_wide_characters_twice() {
        let mut args = HashMap::new();
        args.insert("width".to_string(), Value::from(8));
        assert_eq!(pad(&Value::from("김민지"), &args).unwrap(), "김민지  ");
        args.insert("right".to_string(), Value::from(true));
        assert_eq!(pad(&Value::from("ab"), &args).unwrap(), "      ab");
    }
}
