//! The report's words per locale: `templates/labels.toml`, built in, with
//! single keys replaceable by a `labels.toml` in `templates_dir`.

use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;

pub const BUILTIN: &str = include_str!("../../templates/labels.toml");

type Table = BTreeMap<String, BTreeMap<String, String>>;

/// The labels of one locale.
#[derive(Debug, Clone)]
pub struct Labels {
    map: BTreeMap<String, String>,
}

impl Labels {
    /// The labels of `locale`, with the keys of `custom` (the text of a
    /// labels.toml override, named `origin` in errors) on top.
    pub fn load(locale: &str, custom: Option<(&str, &str)>) -> Result<Labels> {
        let builtin: Table = toml::from_str(BUILTIN).context("built-in labels.toml")?;
        let mut map = builtin
            .get(locale)
            .cloned()
            .with_context(|| format!("no labels for locale {locale:?}; use \"en\" or \"ko\""))?;
        if let Some((text, origin)) = custom {
            let over: Table = toml::from_str(text)
                .with_context(|| format!("{origin}: not a valid labels file"))?;
            for (loc, keys) in &over {
                let Some(known) = builtin.get(loc) else {
                    bail!("{origin}: [{loc}] is not a locale; use [en] or [ko]");
                };
                if let Some(k) = keys.keys().find(|k| !known.contains_key(*k)) {
                    bail!("{origin}: [{loc}] {k} is not a label key; see the built-in templates/labels.toml");
                }
            }
            if let Some(keys) = over.get(locale) {
                map.extend(keys.clone());
            }
        }
        Ok(Labels { map })
    }

    /// One label; a key missing from labels.toml shows as `[key]`.
    pub fn get(&self, key: &str) -> String {
        self.map
            .get(key)
            .cloned()
            .unwrap_or_else(|| format!("[{key}]"))
    }

    pub fn all(&self) -> BTreeMap<String, String> {
        self.map.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_locale_has_every_key() {
        let t: Table = toml::from_str(BUILTIN).unwrap();
        let en: Vec<_> = t["en"].keys().collect();
        let ko: Vec<_> = t["ko"].keys().collect();
        assert_eq!(en, ko);
        assert!(en.len() > 50);
    }

    #[test]
    fn an_override_replaces_one_key_and_rejects_typos() {
        let l = Labels::load("ko", Some(("[ko]\ntitle = \"월간 보고\"\n", "labels.toml"))).unwrap();
        assert_eq!(l.get("title"), "월간 보고");
        assert_eq!(l.get("win_rate"), "수주율");
        let err = Labels::load("en", Some(("[en]\ntitel = \"x\"\n", "labels.toml")))
            .unwrap_err()
            .to_string();
        assert!(err.contains("titel is not a label key"), "{err}");
        assert!(Labels::load("fr", None).is_err());
    }
}
