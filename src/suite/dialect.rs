//! Gherkin keywords per language (`# language: xx`). The table is the `languages.json`
//! that the `gherkin` crate (our dependency) ships in its source, placed in OUT_DIR by
//! `build.rs` (the crate keeps its parsed tables private, and we copy no third-party file
//! into the project). It is the official Gherkin keyword list as of that crate's release:
//! 77 languages; `amh`, `be` and `ml`, added to the official list later, are not known.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

/// The keywords of one language, exactly as the official file lists them. Step keywords
/// carry their trailing space where the language uses one (`"Given "`, `"* "`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dialect {
    /// English name of the language.
    pub name: String,
    /// Name of the language in itself.
    pub native: String,
    /// `Feature` keywords.
    pub feature: Vec<String>,
    /// `Rule` keywords.
    pub rule: Vec<String>,
    /// `Background` keywords.
    pub background: Vec<String>,
    /// `Scenario` keywords.
    pub scenario: Vec<String>,
    /// `Scenario Outline` keywords.
    pub scenario_outline: Vec<String>,
    /// `Examples` keywords.
    pub examples: Vec<String>,
    /// `Given` keywords.
    pub given: Vec<String>,
    /// `When` keywords.
    pub when: Vec<String>,
    /// `Then` keywords.
    pub then: Vec<String>,
    /// `And` keywords.
    pub and: Vec<String>,
    /// `But` keywords.
    pub but: Vec<String>,
    /// The step keywords in matching order, computed on first use.
    #[serde(skip)]
    sorted_steps: OnceLock<Vec<(String, KeywordType)>>,
}

/// What a step keyword says about its step, as the official AST's `keywordType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeywordType {
    /// A `Given` keyword.
    Context,
    /// A `When` keyword.
    Action,
    /// A `Then` keyword.
    Outcome,
    /// An `And` or `But` keyword: takes the type of the step before.
    Conjunction,
    /// A keyword of more than one kind (`* `).
    Unknown,
}

impl KeywordType {
    /// The name the official messages use (`"Context"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            KeywordType::Context => "Context",
            KeywordType::Action => "Action",
            KeywordType::Outcome => "Outcome",
            KeywordType::Conjunction => "Conjunction",
            KeywordType::Unknown => "Unknown",
        }
    }
}

const LANGUAGES_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/gherkin-languages.json"));

fn all() -> &'static HashMap<String, Dialect> {
    static ALL: OnceLock<HashMap<String, Dialect>> = OnceLock::new();
    // The file is embedded at build time and checked by a unit test, so a parse failure
    // can only mean a broken build; an empty table then rejects every `# language:`.
    ALL.get_or_init(|| serde_json::from_str(LANGUAGES_JSON).unwrap_or_default())
}

impl Dialect {
    /// The dialect for a language code (`en`, `fr`, `de`, `es`, `em`, ...).
    pub fn get(code: &str) -> Option<&'static Dialect> {
        all().get(code)
    }

    /// English.
    pub fn english() -> &'static Dialect {
        static EN: OnceLock<Dialect> = OnceLock::new();
        Dialect::get("en").unwrap_or_else(|| EN.get_or_init(fallback_english))
    }

    /// Every language code, sorted.
    pub fn codes() -> Vec<&'static str> {
        let mut codes: Vec<&str> = all().keys().map(String::as_str).collect();
        codes.sort_unstable();
        codes
    }

    /// The step keywords, longest first (ties keep Given, When, Then, And, But order), each
    /// with its type: the order in which the official matcher tries them. A keyword listed
    /// more than once (`* `) is of unknown type.
    pub fn step_keywords(&self) -> &[(String, KeywordType)] {
        self.sorted_steps.get_or_init(|| {
            let groups = [
                (&self.given, KeywordType::Context),
                (&self.when, KeywordType::Action),
                (&self.then, KeywordType::Outcome),
                (&self.and, KeywordType::Conjunction),
                (&self.but, KeywordType::Conjunction),
            ];
            let all: Vec<(&String, KeywordType)> =
                groups.into_iter().flat_map(|(words, ty)| words.iter().map(move |w| (w, ty))).collect();
            let type_of = |word: &String| match all.iter().filter(|(w, _)| *w == word).count() {
                1 => all.iter().find(|(w, _)| *w == word).map_or(KeywordType::Unknown, |(_, t)| *t),
                _ => KeywordType::Unknown,
            };
            let mut typed: Vec<(String, KeywordType)> = all.iter().map(|(w, _)| ((*w).clone(), type_of(w))).collect();
            typed.sort_by_key(|(w, _)| std::cmp::Reverse(w.chars().count()));
            typed
        })
    }
}

fn fallback_english() -> Dialect {
    let v = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
    Dialect {
        name: "English".into(),
        native: "English".into(),
        feature: v(&["Feature", "Business Need", "Ability"]),
        rule: v(&["Rule"]),
        background: v(&["Background"]),
        scenario: v(&["Example", "Scenario"]),
        scenario_outline: v(&["Scenario Outline", "Scenario Template"]),
        examples: v(&["Examples", "Scenarios"]),
        given: v(&["* ", "Given "]),
        when: v(&["* ", "When "]),
        then: v(&["* ", "Then "]),
        and: v(&["* ", "And "]),
        but: v(&["* ", "But "]),
        sorted_steps: OnceLock::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_keyword_file_parses_with_every_language() {
        let parsed: HashMap<String, Dialect> = serde_json::from_str(LANGUAGES_JSON).expect("valid");
        assert_eq!(parsed.len(), Dialect::codes().len());
        assert!(parsed.len() >= 77);
        for code in ["en", "fr", "de", "es", "no", "em", "zh-CN"] {
            assert!(Dialect::get(code).is_some(), "{code}");
        }
    }

    #[test]
    fn english_matches_the_fallback() {
        let en = Dialect::english();
        let fb = fallback_english();
        assert_eq!(en.feature, fb.feature);
        assert_eq!(en.scenario_outline, fb.scenario_outline);
        assert_eq!(en.given, fb.given);
    }

    #[test]
    fn star_is_unknown_and_longest_keywords_come_first() {
        let kws = Dialect::english().step_keywords();
        assert!(kws.contains(&("* ".into(), KeywordType::Unknown)));
        assert!(kws.contains(&("And ".into(), KeywordType::Conjunction)));
        assert!(kws.contains(&("Given ".into(), KeywordType::Context)));
        let lens: Vec<usize> = kws.iter().map(|(w, _)| w.chars().count()).collect();
        assert!(lens.windows(2).all(|p| p[0] >= p[1]));
    }

    #[test]
    fn every_language_is_known_to_the_gherkin_crate_or_newer() {
        // The crate's copy is older; ours must at least cover what it covers.
        for code in ["en", "fr", "de", "es", "af", "ja"] {
            assert!(gherkin::is_language_supported(code));
            assert!(Dialect::get(code).is_some());
        }
    }
}
