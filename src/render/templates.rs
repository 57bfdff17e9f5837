//! The tera templates: built in (embedded with `include_str!`), each also
//! reachable as `__builtin/<name>` so an override can `{% extends %}` it and
//! replace one block; files in `templates_dir` replace the built-in of the
//! same name (zola-style layering). Reading `templates_dir` is the only I/O.
//!
//! A user template may recurse (a macro or an include that calls itself)
//! and tera sets no bound: every macro body and include is given a guard
//! that fails the render, naming the template, once rendering has used most
//! of the bounded stack of the render thread (`on_render_thread`), instead
//! of letting the process die of a stack overflow.

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
    guard_recursion(&mut tera);
    Ok(tera)
}

/// Stack of the render thread; rendering fails once `DEPTH_LIMIT` of it is
/// used, leaving the rest for the frames between two guards.
const RENDER_STACK: usize = 64 << 20;
const DEPTH_LIMIT: usize = 40 << 20;
const GUARD: &str = "__salesops_depth_guard";

thread_local! {
    /// Address near the bottom of the render thread's stack (0: not on it).
    static STACK_BASE: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Runs `f` on a thread with a bounded stack of known size, where the
/// recursion guard of the templates can measure how deep rendering is.
pub fn on_render_thread<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("render".into())
            .stack_size(RENDER_STACK)
            .spawn_scoped(scope, || {
                let base = 0u8;
                STACK_BASE.with(|b| b.set(std::ptr::addr_of!(base) as usize));
                f()
            })
            .expect("cannot start the render thread");
        match handle.join() {
            Ok(v) => v,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// The guard each macro body and include starts with: renders nothing.
fn depth_guard(_: &HashMap<String, Value>) -> tera::Result<Value> {
    let here = 0u8;
    let here = std::ptr::addr_of!(here) as usize;
    let base = STACK_BASE.with(|b| b.get());
    let used = if base == 0 { 0 } else { base.abs_diff(here) };
    if used > DEPTH_LIMIT {
        return Err(tera::Error::msg(
            "templates nest too deeply: a macro or an include calls itself without end",
        ));
    }
    Ok(Value::String(String::new()))
}

/// Puts a guard at the start of every macro body and before every include.
fn guard_recursion(tera: &mut Tera) {
    use tera::ast::{Expr, ExprVal, FunctionCall, Node, WS};
    fn guard() -> Node {
        Node::VariableBlock(
            WS::default(),
            Expr::new(ExprVal::FunctionCall(FunctionCall {
                name: GUARD.into(),
                args: HashMap::new(),
            })),
        )
    }
    fn walk(body: &mut Vec<Node>) {
        let mut out = Vec::with_capacity(body.len());
        for mut node in std::mem::take(body) {
            match &mut node {
                Node::Include(..) => out.push(guard()),
                Node::MacroDefinition(_, m, _) => guard_macro(&mut m.body),
                Node::Block(_, b, _) => walk(&mut b.body),
                Node::FilterSection(_, f, _) => walk(&mut f.body),
                Node::Forloop(_, f, _) => {
                    walk(&mut f.body);
                    if let Some(e) = f.empty_body.as_mut() {
                        walk(e);
                    }
                }
                Node::If(i, _) => {
                    for (_, _, b) in i.conditions.iter_mut() {
                        walk(b);
                    }
                    if let Some((_, b)) = i.otherwise.as_mut() {
                        walk(b);
                    }
                }
                _ => {}
            }
            out.push(node);
        }
        *body = out;
    }
    fn guard_macro(body: &mut Vec<Node>) {
        walk(body);
        body.insert(0, guard());
    }
    tera.register_function(GUARD, depth_guard);
    for t in tera.templates.values_mut() {
        walk(&mut t.ast);
        for m in t.macros.values_mut() {
            guard_macro(&mut m.body);
        }
        for b in t.blocks.values_mut() {
            walk(&mut b.body);
        }
        for defs in t.blocks_definitions.values_mut() {
            for (_, b) in defs.iter_mut() {
                walk(&mut b.body);
            }
        }
    }
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
    fn a_macro_that_calls_itself_fails_naming_the_template() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("report.txt"),
            "{% macro f(n) %}{{ self::f(n=n+1) }}{% endmacro f %}{{ self::f(n=0) }}",
        )
        .unwrap();
        let tera = load(Some(dir.path()), None).unwrap();
        let err = on_render_thread(|| render(&tera, "report.txt", &tera::Context::new()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("template report.txt"), "{err}");
        assert!(err.contains("nest too deeply"), "{err}");
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
