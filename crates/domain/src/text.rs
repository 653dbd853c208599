//! Validated free-text values shared by many resources.

use crate::error::{DomainError, DomainResult};

/// Checks a single-line text field: 1..=`max` characters, not blank, no control characters.
/// The text is kept exactly as sent (no trimming), because clients expect to read back what they
/// stored; control characters are refused because PostgreSQL cannot store NUL and logs and CSV
/// exports break on the rest.
pub fn single_line(field: &str, raw: &str, max: usize) -> DomainResult<String> {
    check_length(field, raw, max)?;
    if raw.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(raw.to_owned())
}

/// Checks a free-text field that may span lines: 1..=`max` characters, not blank, and no
/// control characters but line breaks and tabs.
pub fn multi_line(field: &str, raw: &str, max: usize) -> DomainResult<String> {
    check_length(field, raw, max)?;
    if raw
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(DomainError::invalid(
            field,
            "must not contain control characters other than line breaks and tabs",
        ));
    }
    Ok(raw.to_owned())
}

fn check_length(field: &str, raw: &str, max: usize) -> DomainResult<()> {
    if raw.trim().is_empty() {
        return Err(DomainError::invalid(field, "must not be blank"));
    }
    if raw.chars().count() > max {
        return Err(DomainError::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(())
}

/// The longest email address: RFC 5321's path limit.
pub const MAX_EMAIL_CHARS: usize = 254;

/// An email address: one `@` with text on both sides, no spaces, at most [`MAX_EMAIL_CHARS`].
/// Deliverability is the HR system's concern, not ours.
pub fn email(field: &str, raw: &str) -> DomainResult<String> {
    let value = single_line(field, raw, MAX_EMAIL_CHARS)?;
    let valid = match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !value.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if valid {
        Ok(value)
    } else {
        Err(DomainError::invalid(field, "must be an email address"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_line_keeps_text_verbatim() {
        let raw = "Zoë 東京 '); DROP TABLE members;--";
        assert_eq!(single_line("name", raw, 100).unwrap(), raw);
    }

    #[test]
    fn single_line_counts_characters_not_bytes() {
        assert!(single_line("name", &"é".repeat(100), 100).is_ok());
        assert!(single_line("name", &"é".repeat(101), 100).is_err());
    }

    #[test]
    fn blank_and_control_characters_are_rejected() {
        assert!(single_line("name", "   ", 10).is_err());
        assert!(single_line("name", "", 10).is_err());
        assert!(single_line("name", "a\u{0}b", 10).is_err());
        assert!(single_line("name", "a\nb", 10).is_err());
    }

    #[test]
    fn multi_line_keeps_line_breaks_and_refuses_other_controls() {
        assert!(multi_line("body", "line one\r\n\tline two", 100).is_ok());
        assert!(multi_line("body", "bell\u{7}", 100).is_err());
        assert!(multi_line("body", "nul\u{0}", 100).is_err());
        assert!(multi_line("body", "\n\n", 100).is_err());
    }

    #[test]
    fn email_needs_one_at_sign_with_both_sides() {
        assert!(email("email", "ana@example.com").is_ok());
        for bad in ["ana", "@example.com", "ana@", "a@b@c", "ana @example.com"] {
            assert!(email("email", bad).is_err(), "{bad}");
        }
    }
}
