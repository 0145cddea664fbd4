//! Id newtypes. State lives in `Vec`s addressed by these; ids are dense and assigned in a
//! deterministic order (workers by index, functions by first appearance, instances by slot).

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$m:meta])* $name:ident, $prefix:literal) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub struct $name(pub u32);

        impl $name {
            /// The id as an index into the `Vec` that holds the state it names.
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
    };
}

id_type!(
    /// A worker (host) of the cluster.
    WorkerId,
    "w"
);
id_type!(
    /// A function instance slot. Slots are reused after eviction; the instance's
    /// generation tells a reused slot from the old occupant.
    InstanceId,
    "i"
);
id_type!(
    /// A function (or application, when apps are the unit of deployment).
    FunctionId,
    "f"
);
