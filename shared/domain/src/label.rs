use serde::Serialize;

/// An endpoint's display name: 1–120 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Label(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    #[error("This field may not be blank.")]
    Blank,
    #[error("Ensure this field has no more than {} characters.", Label::MAX_CHARS)]
    TooLong,
    #[error("Control characters are not allowed.")]
    ControlCharacter,
}

impl Label {
    pub const MAX_CHARS: usize = 120;

    pub fn parse(raw: &str) -> Result<Self, LabelError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(LabelError::Blank);
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(LabelError::TooLong);
        }
        if trimmed.chars().any(char::is_control) {
            return Err(LabelError::ControlCharacter);
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

crate::stored::read_back_unchecked!(Label);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn trims_surrounding_whitespace() {
        assert_eq!(Label::parse("  Billing  ").unwrap().as_str(), "Billing");
    }

    #[test]
    fn rejects_blank_and_whitespace_only() {
        assert_eq!(Label::parse(""), Err(LabelError::Blank));
        assert_eq!(Label::parse(" \t\n "), Err(LabelError::Blank));
    }

    #[test]
    fn counts_characters_not_bytes() {
        assert!(Label::parse(&"é".repeat(120)).is_ok());
        assert_eq!(Label::parse(&"é".repeat(121)), Err(LabelError::TooLong));
    }

    #[test]
    fn rejects_inner_control_characters() {
        assert_eq!(Label::parse("a\u{0}b"), Err(LabelError::ControlCharacter));
        assert_eq!(Label::parse("a\nb"), Err(LabelError::ControlCharacter));
        assert_eq!(Label::parse("a\u{7f}b"), Err(LabelError::ControlCharacter));
    }

    #[test]
    fn stored_labels_are_read_back_even_if_a_rule_tightened_since() {
        let long = "x".repeat(200);
        let stored: Label = serde_json::from_value(serde_json::json!(long)).unwrap();
        assert_eq!(stored.as_str(), long);
        assert!(Label::parse(&long).is_err(), "new input is still checked");
    }

    proptest! {
        #[test]
        fn accepts_printable_text_up_to_the_limit(s in "[^\\p{Cc}]{1,120}") {
            match Label::parse(&s) {
                Ok(label) => {
                    prop_assert_eq!(label.as_str(), s.trim());
                    prop_assert!(!label.as_str().is_empty());
                }
                Err(e) => prop_assert_eq!(e, LabelError::Blank, "only whitespace-only input may fail: {:?}", s),
            }
        }

        #[test]
        fn never_accepts_more_than_the_limit(s in "[a-z]{121,300}") {
            prop_assert_eq!(Label::parse(&s), Err(LabelError::TooLong));
        }

        #[test]
        fn a_parsed_label_parses_to_itself(s in "\\PC{0,200}") {
            if let Ok(label) = Label::parse(&s) {
                prop_assert_eq!(Label::parse(label.as_str()), Ok(label.clone()));
            }
        }
    }
}
