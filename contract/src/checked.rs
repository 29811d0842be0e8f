//! Strings that hold only what a rule accepts: one macro for every such newtype.

/// Defines `$name`, a string newtype that holds only values `$check` (a `fn(&str) ->
/// Result<(), String>`) accepts. It is made from a `String` by `TryFrom` (serde's way in, so a
/// bad value is an error where it is read) or from a `&str` by `parse`, and shows and turns
/// back into its text. The caller's crate depends on serde.
#[macro_export]
macro_rules! checked_string {
    ($(#[$meta:meta])* $vis:vis struct $name:ident, checked by $check:path;) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        $vis struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl ::std::convert::TryFrom<String> for $name {
            type Error = String;
            fn try_from(value: String) -> ::std::result::Result<Self, String> {
                $check(&value)?;
                Ok(Self(value))
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = String;
            fn from_str(value: &str) -> ::std::result::Result<Self, String> {
                Self::try_from(value.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.pad(&self.0)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    fn lower_case(value: &str) -> Result<(), String> {
        if !value.is_empty() && value.chars().all(|c| c.is_ascii_lowercase()) {
            Ok(())
        } else {
            Err(format!("{value:?} is not lower-case"))
        }
    }

    checked_string! {
        /// A test word.
        struct Word, checked by lower_case;
    }

    #[test]
    fn only_accepted_values_are_held_in_every_way_in() {
        assert_eq!("abc".parse::<Word>().unwrap().as_str(), "abc");
        assert_eq!("aBc".parse::<Word>().unwrap_err(), "\"aBc\" is not lower-case");
        assert!(serde_json::from_str::<Word>("\"\"").is_err());
        let word: Word = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(serde_json::to_string(&word).unwrap(), "\"abc\"");
        assert_eq!(format!("[{word:>5}]"), "[  abc]");
        assert_eq!(String::from(word), "abc");
    }
}
