//! One declaration for every closed set of names the API speaks (roles, scopes, and the kinds,
//! statuses and outcomes to come): the enum, its wire names for serde and the OpenAPI document
//! (`ToSchema`), and `as_str`/`parse` for the database, which stores the same names as text.
//!
//! ```text
//! string_enum! {
//!     /// The role a member holds in the organization.
//!     pub enum MemberRole ("role") {
//!         /// Runs the business.
//!         Owner = "owner",
//!         /// Leads people.
//!         Manager = "manager",
//!     }
//! }
//! ```
//!
//! The string in parentheses names the field a refused value is reported on.

/// Declares a string enum; see the module documentation.
#[macro_export]
macro_rules! string_enum {
    (
        $(#[$doc:meta])*
        $vis:vis enum $name:ident ($field:literal) {
            $($(#[$variant_doc:meta])* $variant:ident = $text:tt),+ $(,)?
        }
    ) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
        )]
        $vis enum $name {
            $($(#[$variant_doc])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in the order declared.
            #[allow(dead_code, reason = "a private set need not be enumerated")]
            pub const ALL: [Self; [$($text),+].len()] = [$(Self::$variant),+];

            /// The name this value has in JSON, in tokens and in the database.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            /// The value named `raw`, or a validation error naming the field and every name.
            pub fn parse(raw: &str) -> $crate::DomainResult<Self> {
                match raw {
                    $($text => Ok(Self::$variant),)+
                    _ => Err($crate::DomainError::invalid(
                        $field,
                        format!("must be one of {}", [$($text),+].join(", ")),
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::DomainError;

            fn from_str(raw: &str) -> Result<Self, Self::Err> {
                Self::parse(raw)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    string_enum! {
        /// A test enum.
        pub enum Colour ("colour") {
            /// Red.
            Red = "red",
            /// Dark blue.
            DarkBlue = "dark_blue",
        }
    }

    #[test]
    fn names_round_trip_and_strangers_are_refused_naming_the_field() {
        assert_eq!(Colour::parse("dark_blue").unwrap(), Colour::DarkBlue);
        assert_eq!(Colour::DarkBlue.as_str(), "dark_blue");
        assert_eq!(Colour::Red.to_string(), "red");
        let refused = Colour::parse("Red").unwrap_err();
        assert_eq!(refused.field_errors()[0].field, "colour");
        assert_eq!(
            refused.field_errors()[0].message,
            "must be one of red, dark_blue"
        );
    }

    #[test]
    fn serde_uses_the_same_names() {
        assert_eq!(
            serde_json::to_string(&Colour::DarkBlue).unwrap(),
            "\"dark_blue\""
        );
        assert_eq!(
            serde_json::from_str::<Colour>("\"red\"").unwrap(),
            Colour::Red
        );
    }
}
