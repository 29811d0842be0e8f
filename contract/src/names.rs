//! Names both sides spell: stacks, functions and their handlers, tables, indexes, attributes.

/// The stack of a tier, as the deployer names it (`CORE_USER` -> `smart-album-core-user`).
pub fn stack_name_of_tier(tier: &str) -> String {
    format!("smart-album-{}", tier.to_ascii_lowercase().replace('_', "-"))
}

/// The two functions of a stack: `<stack>-<suffix>`, each with its own artifact and handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// The HTTP API behind the REST API proxy.
    Api,
    /// The QueueAnalysis consumer.
    Analyzer,
}

impl Function {
    pub const ALL: [Function; 2] = [Function::Api, Function::Analyzer];

    /// `<stack>-<suffix>`; also the name of the function's binary and of its artifact folder.
    pub fn suffix(self) -> &'static str {
        match self {
            Function::Api => "api",
            Function::Analyzer => "analyzer",
        }
    }

    /// The function's `Handler` setting (`_HANDLER` in the process).
    pub fn handler(self) -> &'static str {
        self.suffix()
    }

    /// The binary that cargo-lambda packages as this function's `bootstrap` (`api` from the
    /// `runtime` crate, `analyzer` from the `analyzer` crate).
    pub fn binary(self) -> &'static str {
        self.suffix()
    }

    pub fn name_in(self, stack: &str) -> String {
        format!("{stack}-{}", self.suffix())
    }

    /// The shared libraries the function loads from beside its `bootstrap`: its zip must hold
    /// them, or the function cannot start.
    pub fn bundled_libraries(self) -> &'static [&'static str] {
        match self {
            Function::Api => &[],
            Function::Analyzer => &[ONNX_RUNTIME_LIBRARY],
        }
    }
}

/// ONNX Runtime's shared library, which the analyzer loads at run time from beside its
/// executable (the built-in models run on it).
pub const ONNX_RUNTIME_LIBRARY: &str = "libonnxruntime.so";

/// Table names are `<stack>-<suffix>`.
pub const USERS_TABLE_SUFFIX: &str = "users";
pub const IMAGES_TABLE_SUFFIX: &str = "images";

/// Both tables' primary key.
pub const PARTITION_KEY: &str = "pk";
pub const SORT_KEY: &str = "sk";

/// The users table's index for the ops search by name prefix: (`name_initial`, `user_name`).
pub const USERS_NAME_PREFIX_INDEX: &str = "by_name_prefix";
pub const USERS_NAME_PREFIX_INDEX_KEY: (&str, &str) = ("name_initial", "user_name");

/// The images table's index of listings and label entries: (`entry_pk`, `entry_sk`).
pub const IMAGES_ENTRIES_INDEX: &str = "entries";
pub const IMAGES_ENTRIES_INDEX_KEY: (&str, &str) = ("entry_pk", "entry_sk");

/// The users table's TTL attribute (epoch seconds): sessions and sign-in attempt counts expire.
pub const USERS_EXPIRES_AT: &str = "expires_at";

/// The images table's TTL attribute (epoch seconds): abandoned presigned-upload records expire.
pub const IMAGES_EXPIRES_AT: &str = "expires_at";

/// The object tag of a presigned upload not yet completed (`key`, `value`): the bucket's
/// lifecycle rule expires such objects; completing the upload removes the tag.
pub const UPLOAD_TAG: (&str, &str) = ("smart-album-upload", "pending");

/// The `x-amz-tagging` value of a presigned upload ([`UPLOAD_TAG`]): the client sends it with
/// its PUT, as the presigned URL requires.
pub fn upload_tagging() -> String {
    let (key, value) = UPLOAD_TAG;
    format!("{key}={value}")
}

/// Rekognition face collections (tiers whose engine is Rekognition): one per user, named
/// `<stack>-faces-<user>`, created by the analyzer on first use. The stack's roles may touch
/// only collections under this prefix.
pub fn faces_collection_prefix(stack: &str) -> String {
    format!("{stack}-faces-")
}

pub fn faces_collection(stack: &str, user: &str) -> String {
    format!("{}{user}", faces_collection_prefix(stack))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tier_names_map_to_stack_names() {
        assert_eq!(stack_name_of_tier("FULL_PLATFORM_USER"), "smart-album-full-platform-user");
        assert_eq!(Function::Api.name_in("smart-album-core-user"), "smart-album-core-user-api");
    }
}
