//! What the customer search compares: names folded (case and accents), emails folded, phones
//! as their digits, each turned into a blind token so the index holds nothing readable.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::PrivacyError;
use super::keys::MasterKey;

/// A name's words, lower-cased, accents dropped: "Zoë  O'Brien-Núñez" → zoe, o, brien, nunez.
pub fn name_words(name: &str) -> Vec<String> {
    let folded: String = name
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect();
    let mut words: Vec<String> = folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_owned)
        .collect();
    words.sort();
    words.dedup();
    words
}

pub fn fold_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A phone number's digits; `None` when it has fewer than three (not a phone to search by).
pub fn phone_digits(phone: &str) -> Option<String> {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    (digits.len() >= 3).then_some(digits)
}

/// The tokens a customer is found by.
pub fn index_tokens(
    master: &MasterKey,
    name: &str,
    email: Option<&str>,
    phone: Option<&str>,
) -> Result<Vec<Vec<u8>>, PrivacyError> {
    let mut tokens = Vec::new();
    for word in name_words(name) {
        tokens.push(master.blind("name", &word)?);
    }
    if let Some(email) = email.map(fold_email).filter(|e| !e.is_empty()) {
        tokens.push(master.blind("email", &email)?);
    }
    if let Some(digits) = phone.and_then(phone_digits) {
        tokens.push(master.blind("phone", &digits)?);
    }
    tokens.sort();
    tokens.dedup();
    Ok(tokens)
}

/// A search's tokens: `whole` matches an email or a phone on its own; every one of `words`
/// must match a word of the name.
#[derive(Debug, Default)]
pub struct Query {
    pub whole: Vec<Vec<u8>>,
    pub words: Vec<Vec<u8>>,
}

pub fn query_tokens(master: &MasterKey, q: &str) -> Result<Query, PrivacyError> {
    let mut query = Query::default();
    let email = fold_email(q);
    if email.contains('@') {
        query.whole.push(master.blind("email", &email)?);
    }
    let looks_like_phone = q
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c));
    if looks_like_phone && let Some(digits) = phone_digits(q) {
        query.whole.push(master.blind("phone", &digits)?);
    }
    for word in name_words(q) {
        query.words.push(master.blind("name", &word)?);
    }
    Ok(query)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fold_case_and_accents_into_words() {
        assert_eq!(
            name_words("Zoë  O'Brien-Núñez"),
            vec!["brien", "nunez", "o", "zoe"]
        );
        assert_eq!(name_words("ÅSA Öberg"), vec!["asa", "oberg"]);
        assert_eq!(name_words("  "), Vec::<String>::new());
    }

    #[test]
    fn phones_are_their_digits() {
        assert_eq!(
            phone_digits("+1 (555) 010-0200").as_deref(),
            Some("15550100200")
        );
        assert_eq!(phone_digits("12"), None);
    }
}
