//! Applying a validated patch: each field the patch carries replaces the target's, each field it
//! leaves out stays. A patch's fields are `Option`s (`Option<Option<T>>` where `null` clears).

/// `apply_patch!(target, patch; a, b, c)` sets `target.a` to the patch's `a` when the patch
/// carries one, and so on for each field named.
#[macro_export]
macro_rules! apply_patch {
    ($target:expr, $patch:expr; $($field:ident),+ $(,)?) => {
        $(
            if let Some(value) = $patch.$field {
                $target.$field = value;
            }
        )+
    };
}
