//! The two classes and their names, by logit index: 0 = Real, 1 = Fake (the seed's
//! convention; the 140k data set's CSV says `label` 1 = real, so its reader maps by name).

/// Class names by logit index: 0 = Real, 1 = Fake.
pub const CLASS_NAMES: [&str; 2] = ["real", "fake"];

/// The two classes, by logit index.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    /// A real photograph (index 0).
    Real,
    /// A generated image (index 1).
    Fake,
}

impl Label {
    /// Logit index: 0 = Real, 1 = Fake.
    pub fn index(self) -> usize {
        match self {
            Label::Real => 0,
            Label::Fake => 1,
        }
    }

    /// `"real"` or `"fake"`.
    pub fn name(self) -> &'static str {
        CLASS_NAMES[self.index()]
    }

    /// Parses `real`/`fake` in any case.
    pub fn from_name(name: &str) -> Option<Label> {
        match name.trim().to_ascii_lowercase().as_str() {
            "real" => Some(Label::Real),
            "fake" => Some(Label::Fake),
            _ => None,
        }
    }

    /// True for Fake.
    pub fn is_fake(self) -> bool {
        self == Label::Fake
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logit_indices_and_names_follow_the_seed() {
        // The seed's head: logit 0 = Real, 1 = Fake.
        assert_eq!((Label::Real.index(), Label::Fake.index()), (0, 1));
        assert_eq!((Label::Real.name(), Label::Fake.name()), ("real", "fake"));
        assert!(Label::Fake.is_fake() && !Label::Real.is_fake());
        for label in [Label::Real, Label::Fake] {
            assert_eq!(Label::from_name(label.name()), Some(label));
            let json = serde_json::to_string(&label).unwrap();
            assert_eq!(json, format!("\"{}\"", label.name()));
        }
    }

    #[test]
    fn names_parse_in_any_case_and_nothing_else_does() {
        assert_eq!(Label::from_name(" Fake\n"), Some(Label::Fake));
        assert_eq!(Label::from_name("REAL"), Some(Label::Real));
        for name in ["", "1", "0", "fakes", "unreal"] {
            assert_eq!(Label::from_name(name), None, "{name:?}");
        }
    }
}
