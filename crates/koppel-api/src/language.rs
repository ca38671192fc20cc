//! The caller's language, from `Accept-Language`.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::ACCEPT_LANGUAGE;
use axum::http::request::Parts;

/// The languages Koppel answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    /// The default.
    #[default]
    English,
    /// For `Accept-Language: nl` (and `nl-NL`, `nl-BE`, …).
    Dutch,
}

impl Language {
    /// Its tag for `Content-Language` (RFC 9110 §8.5).
    pub fn tag(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::Dutch => "nl",
        }
    }

    /// Picks the language with the highest weight among those we speak
    /// (RFC 9110 §12.5.4); English when nothing we speak is asked for.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let Some(value) = headers.get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()) else {
            return Language::English;
        };
        let mut best: Option<(f32, Language)> = None;
        for item in value.split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let weight = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let language = if tag == "nl" || tag.starts_with("nl-") {
                Language::Dutch
            } else if tag == "en" || tag.starts_with("en-") {
                Language::English
            } else {
                continue;
            };
            if weight > 0.0 && best.is_none_or(|(w, _)| weight > w) {
                best = Some((weight, language));
            }
        }
        best.map(|(_, language)| language).unwrap_or_default()
    }
}

/// A handler that answers in words (a journal's descriptions) takes the caller's language.
impl<S: Send + Sync> FromRequestParts<S> for Language {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Language::from_headers(&parts.headers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(value: &str) -> Language {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT_LANGUAGE, value.parse().unwrap());
        Language::from_headers(&headers)
    }

    #[test]
    fn dutch_is_chosen_for_nl_and_its_regional_variants() {
        assert_eq!(pick("nl"), Language::Dutch);
        assert_eq!(pick("nl-NL,nl;q=0.9,en;q=0.8"), Language::Dutch);
        assert_eq!(pick("nl-BE"), Language::Dutch);
    }

    #[test]
    fn the_highest_weight_wins_and_unknown_languages_fall_back_to_english() {
        assert_eq!(pick("en;q=0.9, nl;q=0.5"), Language::English);
        assert_eq!(pick("de, nl;q=0.4"), Language::Dutch);
        assert_eq!(pick("de, fr"), Language::English);
        assert_eq!(pick("nl;q=0"), Language::English);
        assert_eq!(Language::from_headers(&HeaderMap::new()), Language::English);
    }
}
