//! The pages' message catalogues: `locales/es.ftl` and `locales/en.ftl`, in Project Fluent's
//! format, compiled in. Each message is formatted once, when first needed, into a table per
//! language; a page asks for a message by its key ([`super::Lang::t`]).

use std::collections::HashMap;
use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::resolver::ResolverError;
use fluent_bundle::resolver::errors::ReferenceKind;
use fluent_bundle::{FluentArgs, FluentError, FluentResource};

use super::Lang;

/// One catalogue per language, kept in several files by part of the site (`locales/es.ftl`,
/// then `locales/es/<part>.ftl`); a message id may appear in one file only.
macro_rules! catalogue {
    ($lang:literal: $($part:literal),*) => {
        concat!(
            include_str!(concat!("../../locales/", $lang, ".ftl")),
            $("\n", include_str!(concat!("../../locales/", $lang, "/", $part, ".ftl")),)*
        )
    };
}

const ES: &str =
    catalogue!("es": "users", "import", "network", "pdf", "materials", "mbr", "lots", "equipment");
const EN: &str =
    catalogue!("en": "users", "import", "network", "pdf", "materials", "mbr", "lots", "equipment");

/// Every message of one catalogue: those without arguments formatted once, and the bundle for
/// those with arguments (`problem-not-decimal = '{ $text }' no es un número`).
struct Catalogue {
    messages: HashMap<String, String>,
    bundle: Option<FluentBundle<FluentResource>>,
}

/// True when every error is a variable the formatting was not given: a message with
/// arguments, formatted later by [`format`].
fn only_missing_arguments(errors: &[FluentError]) -> bool {
    errors.iter().all(|e| {
        matches!(
            e,
            FluentError::ResolverError(ResolverError::Reference(ReferenceKind::Variable { .. }))
        )
    })
}

impl Catalogue {
    /// Parses `source` (the catalogue of `locale`) and formats each message. A syntax error or
    /// a message that does not format is a bug of the catalogue: the tests parse both.
    fn load(locale: &str, source: &str) -> Result<Catalogue, String> {
        let resource = FluentResource::try_new(source.to_owned())
            .map_err(|(_, errors)| format!("{locale}.ftl: {errors:?}"))?;
        let lang = locale
            .parse::<unic_langid::LanguageIdentifier>()
            .map_err(|e| format!("{locale}: {e}"))?;
        let mut bundle = FluentBundle::new_concurrent(vec![lang]);
        // Plain text into HTML: no Unicode isolation marks around placeables.
        bundle.set_use_isolating(false);
        let ids: Vec<String> = resource
            .entries()
            .filter_map(|entry| match entry {
                fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_owned()),
                _ => None,
            })
            .collect();
        bundle
            .add_resource(resource)
            .map_err(|errors| format!("{locale}.ftl: {errors:?}"))?;
        let mut messages = HashMap::with_capacity(ids.len());
        for id in ids {
            let pattern = bundle
                .get_message(&id)
                .and_then(|m| m.value())
                .ok_or_else(|| format!("{locale}.ftl: message {id} has no value"))?;
            let mut errors = Vec::new();
            let text = bundle.format_pattern(pattern, None, &mut errors);
            if errors.is_empty() {
                messages.insert(id, text.into_owned());
            } else if !only_missing_arguments(&errors) {
                return Err(format!("{locale}.ftl: message {id}: {errors:?}"));
            }
        }
        Ok(Catalogue {
            messages,
            bundle: Some(bundle),
        })
    }
}

static CATALOGUES: LazyLock<[Catalogue; 2]> = LazyLock::new(|| {
    let load = |locale, source| {
        Catalogue::load(locale, source).unwrap_or_else(|e| {
            tracing::error!("message catalogue unusable: {e}");
            Catalogue {
                messages: HashMap::new(),
                bundle: None,
            }
        })
    };
    [load("es", ES), load("en", EN)]
});

/// The text of `key` in `lang`; the key itself when the catalogue lacks it.
pub(super) fn text(lang: Lang, key: &'static str) -> &'static str {
    lookup(lang, key).unwrap_or(key)
}

/// The text of a key made at run time (`value-negative`), if the catalogue has it.
pub(super) fn lookup(lang: Lang, key: &str) -> Option<&'static str> {
    let catalogue: &'static Catalogue = &CATALOGUES[index(lang)];
    catalogue.messages.get(key).map(String::as_str)
}

/// The text of a message with arguments (`key`, then each `(name, value)`), if the catalogue
/// has it and it formats.
pub(super) fn format(lang: Lang, key: &str, args: &[(&str, String)]) -> Option<String> {
    let bundle = CATALOGUES[index(lang)].bundle.as_ref()?;
    let pattern = bundle.get_message(key)?.value()?;
    let mut fluent_args = FluentArgs::new();
    for (name, value) in args {
        fluent_args.set(*name, value.clone());
    }
    let mut errors = Vec::new();
    let text = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
    errors.is_empty().then(|| text.into_owned())
}

fn index(lang: Lang) -> usize {
    match lang {
        Lang::Es => 0,
        Lang::En => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Every message id of a catalogue, which must load.
    fn keys(source: &str, locale: &str) -> BTreeSet<String> {
        Catalogue::load(locale, source).unwrap_or_else(|e| panic!("{e}"));
        FluentResource::try_new(source.to_owned())
            .unwrap_or_else(|_| panic!("{locale} parses"))
            .entries()
            .filter_map(|entry| match entry {
                fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_owned()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn both_catalogues_parse_and_have_the_same_messages() {
        let (es, en) = (keys(ES, "es"), keys(EN, "en"));
        assert!(!es.is_empty());
        let only_es: Vec<_> = es.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&es).collect();
        assert!(
            only_es.is_empty() && only_en.is_empty(),
            "only in es.ftl: {only_es:?}; only in en.ftl: {only_en:?}"
        );
    }

    /// Every `.t("key")` of the pages' source names a message of the catalogues.
    #[test]
    fn every_key_the_pages_use_is_in_the_catalogues() {
        let known = keys(EN, "en");
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut missing = Vec::new();
        let mut used = 0;
        let mut stack = vec![root];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("the source folder") {
                let path = entry.expect("an entry").path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                if path.ends_with("ui/i18n.rs") {
                    continue;
                }
                let source = std::fs::read_to_string(&path).expect("a source file");
                for piece in source.split(".t(\"").skip(1) {
                    let key = piece.split('"').next().unwrap_or_default();
                    used += 1;
                    if !known.contains(key) {
                        missing.push(format!("{}: {key}", path.display()));
                    }
                }
            }
        }
        assert!(
            used > 300,
            "only {used} keys found: is the scan still right?"
        );
        assert!(missing.is_empty(), "keys without a message: {missing:?}");
    }

    #[test]
    fn texts_come_in_the_page_language_with_accents_and_braces_intact() {
        assert_eq!(text(Lang::Es, "field-donor-code"), "Código de donante");
        assert_eq!(text(Lang::En, "field-donor-code"), "Donor code");
        assert_eq!(text(Lang::En, "no-such-message"), "no-such-message");
    }
}
