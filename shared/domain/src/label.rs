use serde::Serialize;

/// An endpoint's display name: 1–120 characters after trimming, at least one of them visible;
/// no control characters, and nothing that reorders or splits how it is displayed.
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
    #[error("Bidirectional controls, line or paragraph separators and U+FEFF are not allowed.")]
    DisplayControl,
    #[error("This field must have a visible character.")]
    Invisible,
}

/// Characters that reorder text or break it across lines wherever a label is shown: the bidi
/// embeddings, overrides and isolates, the line and paragraph separators, and U+FEFF.
fn is_display_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}' | '\u{FEFF}')
}

/// Characters that show nothing by themselves: whitespace and the invisible format characters
/// (zero-width spaces and joiners, soft hyphen, fillers, variation selectors, tags). A ZWJ
/// inside an emoji sequence is fine; a label of nothing but these is not.
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FFA0}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
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
        if trimmed.chars().any(is_display_control) {
            return Err(LabelError::DisplayControl);
        }
        if trimmed.chars().all(is_invisible) {
            return Err(LabelError::Invisible);
        }
        Ok(Self(trimmed.to_owned()))
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
            let trimmed = s.trim();
            let expected = if trimmed.is_empty() {
                Err(LabelError::Blank)
            } else if trimmed.chars().any(is_display_control) {
                Err(LabelError::DisplayControl)
            } else if trimmed.chars().all(is_invisible) {
                Err(LabelError::Invisible)
            } else {
                Ok(trimmed)
            };
            let parsed = Label::parse(&s);
            prop_assert_eq!(parsed.as_ref().map(Label::as_str).map_err(Clone::clone), expected);
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

    #[test]
    fn refuses_what_reorders_splits_or_hides_a_label() {
        for bidi in [
            '\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}', '\u{2028}', '\u{2029}', '\u{FEFF}',
        ] {
            assert_eq!(
                Label::parse(&format!("Billing{bidi}alerts")),
                Err(LabelError::DisplayControl),
                "{bidi:?}"
            );
        }
        for invisible in [
            "\u{200B}",
            "\u{200D}\u{200B}",
            "\u{3164}",
            "\u{00AD}\u{FE0F}",
            "\u{E0041}",
        ] {
            assert_eq!(
                Label::parse(invisible),
                Err(LabelError::Invisible),
                "{invisible:?}"
            );
        }
        // A ZWJ inside an emoji stays: the family emoji, and text around a joiner.
        let family = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}";
        assert_eq!(
            Label::parse(family).map(|l| l.as_str().to_owned()),
            Ok(family.to_owned())
        );
        assert!(Label::parse("Ops \u{1F6A8}\u{FE0F}").is_ok());
        assert!(Label::parse("\u{202B}").is_err());
    }
}
