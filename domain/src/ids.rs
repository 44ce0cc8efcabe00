//! Identifiers derived from display names.
//!
//! An id is the name transliterated to ASCII with everything outside
//! `[A-Za-z0-9_.-]` removed, so `"Janes Test Client"` becomes
//! `"JanesTestClient"` and `"Café Crème"` becomes `"CafeCreme"`.

/// Returns `true` if `c` may appear in an id (`[A-Za-z0-9_.-]`).
pub fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// Derives an id from a name.
///
/// ASCII characters are kept if they are allowed in an id. Non-ASCII letters
/// and digits are transliterated with [`deunicode`] (`"ß"` becomes `"ss"`,
/// `"日本"` becomes `"RiBen"`), and the allowed characters of the result are
/// kept. Other non-ASCII characters such as emoji and symbols are dropped
/// rather than spelled out (deunicode would turn `"🦄"` into `"unicorn"`).
///
/// The result may be empty; callers that need a usable id must reject that.
pub fn id_from_name(name: &str) -> String {
    let mut id = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii() {
            if is_id_char(c) {
                id.push(c);
            }
            continue;
        }
        // Transliterate letters and digits only; drop emoji, symbols, spaces.
        if !c.is_alphanumeric() {
            continue;
        }
        if let Some(ascii) = deunicode::deunicode_char(c) {
            id.extend(ascii.chars().filter(|&a| is_id_char(a)));
        }
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_names() {
        let cases = [
            ("Janes Test Client", "JanesTestClient"),
            ("Café Crème", "CafeCreme"),
            ("日本", "RiBen"),
            ("Straße", "Strasse"),
            ("Ærøskøbing", "AEroskobing"),
            ("Zürich Payments API", "ZurichPaymentsAPI"),
            ("my-api_v2.1", "my-api_v2.1"),
            ("  padded  ", "padded"),
            ("a/b\\c?d#e%f", "abcdef"),
            ("tab\tand\nnewline", "tabandnewline"),
            ("Ｆｕｌｌ", "Full"),
            ("Rocket 🚀 API", "RocketAPI"),
            ("🦄☣", ""),
            ("🚀", ""),
            ("", ""),
            ("   ", ""),
            ("!!!", ""),
            ("---", "---"),
        ];
        for (name, expected) in cases {
            assert_eq!(id_from_name(name), expected, "name: {name:?}");
        }
    }

    #[test]
    fn ids_contain_only_allowed_characters() {
        let names = [
            "Ωmega Σigma",
            "Привет мир",
            "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
            "e\u{301}te\u{301}",
            "№ 5 ½",
        ];
        for name in names {
            let id = id_from_name(name);
            assert!(id.chars().all(is_id_char), "{name:?} -> {id:?}");
        }
    }

    #[test]
    fn is_id_char_table() {
        for c in ['a', 'Z', '0', '9', '_', '.', '-'] {
            assert!(is_id_char(c), "{c:?}");
        }
        for c in [' ', '/', '\\', '@', '+', 'é', '\n', '~'] {
            assert!(!is_id_char(c), "{c:?}");
        }
    }
}
