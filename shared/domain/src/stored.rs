//! Reading checked text back from storage.

/// Gives a newtype over checked text its `as_str`, a `from_stored` and a `Deserialize` that goes
/// through it. A stored value was checked when written: a rule tightened later must not make
/// stored endpoints unreadable, so reading storage back does not check again. Requests go
/// through the type's `parse` and are never deserialized into it.
macro_rules! read_back_unchecked {
    ($type:ident) => {
        impl $type {
            /// A value read back from storage, where it was checked when written.
            pub fn from_stored(stored: String) -> Self {
                Self(stored)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl<'de> serde::Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                <String as serde::Deserialize>::deserialize(deserializer).map(Self::from_stored)
            }
        }
    };
}

pub(crate) use read_back_unchecked;
