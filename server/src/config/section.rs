//! The macro that declares a configuration section: one line per orchestrator key, giving the
//! key's exact spelling, the Rust field, its type and orchestrator's default side by side.

/// Declares a section struct with serde renames to orchestrator's key names, `#[serde(default)]`
/// (absent keys keep the default), an `impl Default`, and `KEYS`, the list of its keys.
macro_rules! config_section {
    (
        $(#[$smeta:meta])*
        pub struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                $key:literal => $field:ident : $ty:ty = $default:expr,
            )*
        }
    ) => {
        $(#[$smeta])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(default)]
        pub struct $name {
            $(
                $(#[$fmeta])*
                #[serde(rename = $key)]
                pub $field: $ty,
            )*
        }

        impl Default for $name {
            fn default() -> Self {
                Self { $( $field: $default, )* }
            }
        }

        impl $name {
            /// This section's orchestrator keys, in declaration order.
            pub const KEYS: &'static [&'static str] = &[$($key),*];
        }
    };
}

/// `String` from a literal, to keep the default columns short.
pub(crate) fn s(value: &str) -> String {
    value.to_owned()
}

/// `Vec<String>` from literals.
pub(crate) fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}
